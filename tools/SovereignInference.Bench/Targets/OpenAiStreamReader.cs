using System.Text.Json;
using SovereignInference.Bench.Sse;

namespace SovereignInference.Bench.Targets;

/// <summary>
/// Reads an OpenAI streaming response (<c>/v1/completions</c> or <c>/v1/chat/completions</c> chunks over SSE) into a
/// <see cref="RequestTrace"/>: each chunk with non-empty text (or delta content), or a completions chunk with empty text
/// and no finish reason (a token held as an incomplete UTF-8 character), is one output event stamped with the
/// clock reading taken right after the read that completed it; the last <c>usage</c> object seen gives the token counts;
/// <c>[DONE]</c> ends it; an error event or a chunk with an <c>error</c> object fails it. A stream that ends without
/// <c>[DONE]</c> still counts as complete when a finish reason was seen (some servers omit <c>[DONE]</c>).
/// </summary>
internal static class OpenAiStreamReader
{
    private const int BufferSize = 16 * 1024;

    public static async Task ReadAsync(Stream body, RequestTrace trace, Func<long> clock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(clock);
        var parser = new SseParser();
        var events = new List<SseEvent>();
        var buffer = new byte[BufferSize];
        var finished = false;
        while (true)
        {
            var read = await body.ReadAsync(buffer, cancellationToken);
            var now = clock();
            if (read == 0)
            {
                parser.Complete();
                if (finished)
                {
                    trace.Complete(now);
                }
                else
                {
                    trace.Fail(now, BenchFailure.Truncated, null, "the stream ended before [DONE] or a finish reason");
                }

                return;
            }

            events.Clear();
            parser.Feed(buffer.AsSpan(0, read), now, events);
            foreach (var sseEvent in events)
            {
                if (sseEvent.IsDone)
                {
                    trace.Complete(sseEvent.Timestamp);
                    return;
                }

                if (!Apply(sseEvent, trace, ref finished))
                {
                    return;
                }
            }
        }
    }

    /// <summary>Applies one event; false when it failed the request.</summary>
    private static bool Apply(SseEvent sseEvent, RequestTrace trace, ref bool finished)
    {
        if (sseEvent.Type == "error")
        {
            trace.Fail(sseEvent.Timestamp, BenchFailure.StreamError, null, ErrorMessage(sseEvent.Data));
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(sseEvent.Data);
        }
        catch (JsonException e)
        {
            trace.Fail(sseEvent.Timestamp, BenchFailure.MalformedResponse, null, $"event data is not JSON: {e.Message}");
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                trace.Fail(sseEvent.Timestamp, BenchFailure.MalformedResponse, null, "event data is not a JSON object");
                return false;
            }

            if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
            {
                trace.Fail(sseEvent.Timestamp, BenchFailure.StreamError, null, ErrorMessage(sseEvent.Data));
                return false;
            }

            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                var hasOutput = false;
                foreach (var choice in choices.EnumerateArray())
                {
                    var finishing = choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String;
                    hasOutput |= HasText(choice, "text") || (!finishing && HasEmptyText(choice, "text")) ||
                        (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object && HasText(delta, "content"));
                    finished |= finishing;
                }

                if (hasOutput)
                {
                    trace.AddEvent(sseEvent.Timestamp);
                }
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                ReadUsage(usage, trace);
            }
        }

        return true;
    }

    /// <summary>Reads prompt_tokens and completion_tokens of an OpenAI usage object into the trace.</summary>
    public static void ReadUsage(JsonElement usage, RequestTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        if (usage.TryGetProperty("completion_tokens", out var completion) && completion.TryGetInt32(out var c))
        {
            trace.UsageCompletionTokens = c;
        }

        if (usage.TryGetProperty("prompt_tokens", out var prompt) && prompt.TryGetInt32(out var p))
        {
            trace.UsagePromptTokens = p;
        }
    }

    /// <summary>
    /// A completions chunk with an empty "text" and no finish reason still carries a token: one whose bytes do not yet
    /// form a whole UTF-8 character (the text follows with a later token). It counts as an output event, as in vLLM's
    /// benchmark, so inter-token gaps stay per token; otherwise each held byte token would merge two gaps into one.
    /// </summary>
    private static bool HasEmptyText(JsonElement element, string name) =>
        element.TryGetProperty(name, out var text) && text.ValueKind == JsonValueKind.String && text.ValueEquals(string.Empty);

    private static bool HasText(JsonElement element, string name) =>
        element.TryGetProperty(name, out var text) && text.ValueKind == JsonValueKind.String && !text.ValueEquals(string.Empty);

    /// <summary>The error message of an OpenAI error body ({"error": {"message": ...}} or {"error": "..."}), else the text itself (shortened).</summary>
    public static string ErrorMessage(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString()!;
                }

                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                {
                    return message.GetString()!;
                }
            }

            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("message", out var plain) && plain.ValueKind == JsonValueKind.String)
            {
                return plain.GetString()!;
            }
        }
        catch (JsonException)
        {
            // Not JSON: report the text.
        }

        return body.Length <= 300 ? body : body[..300] + "…";
    }
}
