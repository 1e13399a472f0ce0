using System.Diagnostics;
using System.Text.Json.Serialization;
using SovereignInference.Bench.Targets;

namespace SovereignInference.Bench.Stats;

/// <summary>
/// The result of one concurrency level, computed from its request traces. Throughput counts successful requests
/// only, over the wall time of the level (first request sent → last response complete).
/// </summary>
internal sealed record LevelStatistics
{
    public required int Concurrency { get; init; }

    public required int Requests { get; init; }

    public required int Succeeded { get; init; }

    public required int Failed { get; init; }

    /// <summary>Failed requests counted by failure key ("http 429", "grpc Unavailable", "stream error", ...).</summary>
    public required IReadOnlyDictionary<string, int> Errors { get; init; }

    /// <summary>One message per failure key (the first seen), to say what went wrong.</summary>
    public required IReadOnlyDictionary<string, string> ErrorMessages { get; init; }

    /// <summary>Requests sent twice because their connection failed before any response (counted, successful or not).</summary>
    public int Retried { get; init; }

    public required double DurationSeconds { get; init; }

    /// <summary>Successful requests per second of wall time.</summary>
    public required double RequestsPerSecond { get; init; }

    /// <summary>Output tokens of successful requests.</summary>
    public required long OutputTokens { get; init; }

    /// <summary>Output tokens per second of wall time, all streams together.</summary>
    public required double OutputTokensPerSecond { get; init; }

    /// <summary>
    /// Mean over successful requests of one stream's decode rate: (output tokens − 1) ÷ (last output event − first
    /// output event). Requests with fewer than two output events are left out; null when none is left.
    /// </summary>
    public required double? OutputTokensPerSecondPerStream { get; init; }

    /// <summary>Mean prompt tokens per successful request, from the servers' usage reports (null when none reported them).</summary>
    public required double? MeanPromptTokens { get; init; }

    public required double? MeanOutputTokens { get; init; }

    /// <summary>Time to first token: request sent → first output event.</summary>
    [JsonPropertyName("ttft_ms")]
    public required LatencySummary? TimeToFirstToken { get; init; }

    /// <summary>Inter-token latency: gaps between consecutive output events of one request.</summary>
    [JsonPropertyName("itl_ms")]
    public required LatencySummary? InterTokenLatency { get; init; }

    /// <summary>Time per output token of each request: (end to end − time to first token) ÷ (output tokens − 1).</summary>
    [JsonPropertyName("tpot_ms")]
    public required LatencySummary? TimePerOutputToken { get; init; }

    /// <summary>End to end: request sent → response complete.</summary>
    [JsonPropertyName("e2e_ms")]
    public required LatencySummary? EndToEnd { get; init; }

    public static LevelStatistics From(int concurrency, IReadOnlyList<RequestTrace> traces, long startTimestamp, long endTimestamp)
    {
        ArgumentNullException.ThrowIfNull(traces);
        var ok = traces.Where(t => t.Succeeded).ToList();
        var duration = Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalSeconds;
        var ttft = new LatencyHistogram();
        var itl = new LatencyHistogram();
        var tpot = new LatencyHistogram();
        var e2e = new LatencyHistogram();
        var streamRates = new List<double>();
        foreach (var trace in ok)
        {
            e2e.Record(trace.EndToEnd);
            if (trace.TimeToFirstToken is { } first)
            {
                ttft.Record(first);
                if (trace.OutputTokens > 1)
                {
                    tpot.Record((trace.EndToEnd - first) / (trace.OutputTokens - 1));
                }
            }

            var events = trace.Events;
            for (var i = 1; i < events.Count; i++)
            {
                itl.Record(Stopwatch.GetElapsedTime(events[i - 1].Timestamp, events[i].Timestamp));
            }

            if (events.Count >= 2 && trace.OutputTokens > 1)
            {
                var decodeSeconds = Stopwatch.GetElapsedTime(events[0].Timestamp, events[^1].Timestamp).TotalSeconds;
                if (decodeSeconds > 0)
                {
                    streamRates.Add((trace.OutputTokens - 1) / decodeSeconds);
                }
            }
        }

        var failed = traces.Where(t => !t.Succeeded).ToList();
        var outputTokens = ok.Sum(t => (long)t.OutputTokens);
        var prompts = ok.Where(t => t.UsagePromptTokens is not null).Select(t => (double)t.UsagePromptTokens!.Value).ToList();
        return new LevelStatistics
        {
            Concurrency = concurrency,
            Requests = traces.Count,
            Succeeded = ok.Count,
            Failed = failed.Count,
            Errors = failed.GroupBy(t => t.FailureKey ?? "unfinished").OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            ErrorMessages = failed.GroupBy(t => t.FailureKey ?? "unfinished").OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().FailureMessage ?? string.Empty, StringComparer.Ordinal),
            Retried = traces.Count(t => t.Retried),
            DurationSeconds = duration,
            RequestsPerSecond = duration > 0 ? ok.Count / duration : 0,
            OutputTokens = outputTokens,
            OutputTokensPerSecond = duration > 0 ? outputTokens / duration : 0,
            OutputTokensPerSecondPerStream = streamRates.Count == 0 ? null : streamRates.Average(),
            MeanPromptTokens = prompts.Count == 0 ? null : prompts.Average(),
            MeanOutputTokens = ok.Count == 0 ? null : ok.Average(t => (double)t.OutputTokens),
            TimeToFirstToken = ttft.Summarize(),
            InterTokenLatency = itl.Summarize(),
            TimePerOutputToken = tpot.Summarize(),
            EndToEnd = e2e.Summarize(),
        };
    }
}
