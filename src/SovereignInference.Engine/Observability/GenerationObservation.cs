using System.Diagnostics;
using System.Text;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Observability;

/// <summary>
/// Follows one engine call from the outside: its updates, its end, and what that means for metrics,
/// traces and the <see cref="GenerationRecord"/>. Not thread-safe; one caller enumerates a generation.
/// </summary>
internal sealed class GenerationObservation
{
    private readonly EngineTelemetry _telemetry;
    private readonly GenerationRequest _request;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _startedUtc = DateTimeOffset.UtcNow;
    private readonly StringBuilder? _text;
    private readonly Activity? _activity;
    private long _lastTokenAt;
    private int _tokens;
    private GenerationUpdate? _final;
    private string? _errorStatus;

    public GenerationObservation(EngineTelemetry telemetry, GenerationRequest request, bool captureText)
    {
        _telemetry = telemetry;
        _request = request;
        _text = captureText ? new StringBuilder() : null;
        _activity = EngineTelemetry.ActivitySource.StartActivity("sovereign.generate");
        _activity?.SetTag("gen_ai.request.model", request.Model);
        if (request.User is not null)
        {
            _activity?.SetTag("sovereign.user", request.User);
        }
    }

    public void OnUpdate(GenerationUpdate update)
    {
        _text?.Append(update.Text);
        if (update.Tokens.Count > 0)
        {
            var now = Stopwatch.GetTimestamp();
            if (_lastTokenAt != 0)
            {
                _telemetry.InterTokenLatency.Record(Stopwatch.GetElapsedTime(_lastTokenAt, now).TotalSeconds / update.Tokens.Count, ModelTag);
            }

            _lastTokenAt = now;
            _tokens += update.Tokens.Count;
        }

        if (update.Finish is not null)
        {
            _final = update;
        }
    }

    public void OnError(Exception error) =>
        _errorStatus = error switch
        {
            EngineException engine => GenerationRecord.StatusOf(engine.Code),
            OperationCanceledException => "cancelled",
            _ => "error",
        };

    private KeyValuePair<string, object?> ModelTag => new("model", _request.Model);

    /// <summary>
    /// Records the metrics and spans of the finished call and describes it. <paramref name="servedModel"/> is
    /// false when the request named a model the engine does not have: then no metric is recorded, because
    /// label values must come from the server's own model list, not from the request (the adapters count
    /// such calls as refusals).
    /// </summary>
    public GenerationRecord End(string? modelSha256, bool servedModel)
    {
        var elapsed = Stopwatch.GetElapsedTime(_startedAt);
        var status = _final is not null ? "ok" : _errorStatus ?? "cancelled";
        var finish = _final?.Finish;
        var usage = _final?.Usage;
        var timings = _final?.Timings;
        var promptTokens = usage?.PromptTokens ?? 0;
        var completionTokens = usage?.CompletionTokens ?? _tokens;
        var cached = usage?.CachedPromptTokens ?? 0;

        if (servedModel)
        {
            RecordMetrics(status, finish, promptTokens, completionTokens, cached, elapsed, timings);
        }

        EndActivity(status, finish, promptTokens, completionTokens, timings);
        return new GenerationRecord(
            _startedUtc,
            elapsed,
            _request,
            _request.Model,
            modelSha256,
            status,
            finish,
            promptTokens,
            completionTokens,
            cached,
            timings,
            _text?.ToString());
    }

    private static string FinishLabel(FinishReason reason) => GenerationRecord.Label(reason);

    private void RecordMetrics(string status, FinishReason? finish, int promptTokens, int completionTokens, int cached, TimeSpan elapsed, GenerationTimings? timings)
    {
        _telemetry.Requests.Add(
            1,
            ModelTag,
            new KeyValuePair<string, object?>("status", status),
            new KeyValuePair<string, object?>("finish_reason", finish is { } f ? FinishLabel(f) : "none"));
        _telemetry.PromptTokens.Add(promptTokens, ModelTag);
        _telemetry.GenerationTokens.Add(completionTokens, ModelTag);
        _telemetry.PrefixCacheHitTokens.Add(cached, ModelTag);
        _telemetry.EndToEndLatency.Record(elapsed.TotalSeconds, ModelTag);
        if (timings is not null)
        {
            _telemetry.QueueTime.Record(timings.QueueWait.TotalSeconds, ModelTag);
            if (completionTokens > 0)
            {
                _telemetry.TimeToFirstToken.Record(timings.TimeToFirstToken.TotalSeconds, ModelTag);
            }
        }
    }

    private void EndActivity(string status, FinishReason? finish, int promptTokens, int completionTokens, GenerationTimings? timings)
    {
        if (_activity is null)
        {
            return;
        }

        if (timings is not null)
        {
            // The phases are known once the call ends; their spans are recorded afterwards with their real times.
            var queued = _startedUtc + timings.QueueWait;
            var first = _startedUtc + timings.TimeToFirstToken;
            Child("sovereign.queue_wait", _startedUtc, queued);
            Child("sovereign.prefill", queued, first);
            Child("sovereign.decode", first, first + timings.Decode);
        }

        _activity.SetTag("sovereign.status", status);
        _activity.SetTag("gen_ai.usage.input_tokens", promptTokens);
        _activity.SetTag("gen_ai.usage.output_tokens", completionTokens);
        if (finish is { } f)
        {
            _activity.SetTag("gen_ai.response.finish_reasons", FinishLabel(f));
        }

        _activity.SetStatus(status is "ok" or "cancelled" ? ActivityStatusCode.Ok : ActivityStatusCode.Error, status);
        _activity.Stop();
    }

    private void Child(string name, DateTimeOffset start, DateTimeOffset end)
    {
        using var child = EngineTelemetry.ActivitySource.StartActivity(name, ActivityKind.Internal, _activity!.Context, startTime: start);
        child?.SetEndTime(end.UtcDateTime);
    }
}
