using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Engine.Output;

/// <summary>
/// The output stage of one generation, after the scheduler: the sequence's token events → text (control tokens as
/// their names where the request asks, whole UTF-8 characters, stop strings held back) → <see cref="GenerationUpdate"/>s,
/// the last one with finish reason, usage and timings. A stop string found here aborts the sequence (its cache kept),
/// as vLLM's output processor does.
/// </summary>
internal static class SequenceOutput
{
    /// <summary>
    /// Streams <paramref name="sequence"/>'s updates. Cancelling <paramref name="cancellationToken"/> removes the
    /// sequence from the batch within one step; leaving early cancels it.
    /// </summary>
    public static async IAsyncEnumerable<GenerationUpdate> ReadAsync(
        SequenceRequest sequence,
        GenerationRequest request,
        ITokenizer tokenizer,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var assembler = new TextAssembler(request.Stop);
        var controlText = request.ControlText?.ToDictionary(p => p.Key, p => Encoding.UTF8.GetBytes(p.Value));
        var done = false;
        var completionTokens = 0;
        await using var registration = cancellationToken.Register(static s => ((SequenceRequest)s!).Cancel(), sequence);
        try
        {
            await foreach (var ev in sequence.Events.ReadAllAsync(CancellationToken.None))
            {
                if (!ev.IsFinal)
                {
                    completionTokens++;
                    var text = assembler.Push(controlText is not null && controlText.TryGetValue(ev.Token.Token, out var name) ? name : tokenizer.GetPieceBytes(ev.Token.Token));
                    if (assembler.Stopped)
                    {
                        // The stop string is found after the engine: abort the sequence, keep its cache.
                        sequence.Cancel(keepCache: true);
                        done = true;
                        yield return Final(sequence, FinishReason.Stop, text, [ev.Token], completionTokens, assembler.MatchedStop);
                        yield break;
                    }

                    yield return new GenerationUpdate { Text = text, Tokens = [ev.Token] };
                    continue;
                }

                done = true;
                if (ev.Finish == FinishReason.Cancelled)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down; generation was cancelled");
                }

                if (ev.Error is not null)
                {
                    throw ev.Error;
                }

                var tail = assembler.Flush();
                yield return Final(sequence, ev.Finish!.Value, tail, [], completionTokens, assembler.MatchedStop);
                yield break;
            }
        }
        finally
        {
            if (!done)
            {
                sequence.Cancel();
            }
        }
    }

    private static GenerationUpdate Final(SequenceRequest sequence, FinishReason reason, string text, IReadOnlyList<GeneratedToken> tokens, int completionTokens, string? matchedStop)
    {
        var now = Stopwatch.GetTimestamp();
        var first = sequence.FirstTokenAt == 0 ? now : sequence.FirstTokenAt;
        var started = sequence.StartedAt == 0 ? now : sequence.StartedAt;
        return new GenerationUpdate
        {
            Text = text,
            Tokens = tokens,
            Finish = reason,
            MatchedStop = matchedStop,
            Usage = new UsageInfo(sequence.PromptTokens.Length, completionTokens, sequence.CachedPromptTokens),
            Timings = new GenerationTimings(
                Stopwatch.GetElapsedTime(sequence.EnqueuedAt, started),
                Stopwatch.GetElapsedTime(sequence.EnqueuedAt, first),
                Stopwatch.GetElapsedTime(first, now)),
        };
    }
}
