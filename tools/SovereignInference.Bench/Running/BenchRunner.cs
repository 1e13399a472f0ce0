using System.Diagnostics;
using SovereignInference.Bench.Prompts;
using SovereignInference.Bench.Stats;
using SovereignInference.Bench.Targets;

namespace SovereignInference.Bench.Running;

/// <summary>
/// Runs the concurrency levels one after another. At level N, N clients each send a request, wait for it to finish,
/// and send the next, until the level's requests are used up (a closed loop: N requests in flight at all times but the
/// tail).
/// </summary>
internal sealed class BenchRunner
{
    private readonly IBenchTarget _target;
    private readonly PromptSource _prompts;
    private readonly IBenchProgress? _progress;

    public BenchRunner(IBenchTarget target, PromptSource prompts, IBenchProgress? progress = null)
    {
        _target = target;
        _prompts = prompts;
        _progress = progress;
    }

    public async Task<IReadOnlyList<LevelStatistics>> RunAsync(IReadOnlyList<int> levels, int requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(levels);
        var results = new List<LevelStatistics>(levels.Count);
        foreach (var level in levels)
        {
            results.Add(await RunLevelAsync(level, requests, cancellationToken));
        }

        return results;
    }

    /// <summary>Output tokens of a warm-up request (enough to run every per-token path a few times).</summary>
    public const int WarmUpMaxTokens = 16;

    /// <summary>
    /// Sends <paramref name="count"/> short requests (at most <see cref="WarmUpMaxTokens"/> tokens) over
    /// <paramref name="concurrency"/> clients and forgets them: the client's own start-up (JIT, one connection per
    /// client) and the server's first-request costs then fall outside the measured levels. Their prompts come from a level
    /// number no measured level uses, so they leave no prefix a measured request could reuse. Returns how many failed.
    /// </summary>
    public async Task<int> WarmUpAsync(int count, int concurrency, CancellationToken cancellationToken)
    {
        var succeeded = new bool[count];
        await ClosedLoopAsync(concurrency, count, async i =>
        {
            var prompt = _prompts.Get(0, i);
            succeeded[i] = (await _target.SendAsync(prompt with { MaxTokens = Math.Min(prompt.MaxTokens, WarmUpMaxTokens) }, cancellationToken)).Succeeded;
        }, cancellationToken);
        return succeeded.Count(ok => !ok);
    }

    public async Task<LevelStatistics> RunLevelAsync(int concurrency, int requests, CancellationToken cancellationToken)
    {
        var prompts = Enumerable.Range(0, requests).Select(i => _prompts.Get(concurrency, i)).ToArray();
        var traces = new RequestTrace[requests];
        _progress?.LevelStarted(concurrency, requests);
        var start = Stopwatch.GetTimestamp();
        await ClosedLoopAsync(concurrency, requests, async i =>
        {
            var trace = await _target.SendAsync(prompts[i], cancellationToken);
            traces[i] = trace;
            _progress?.RequestFinished(concurrency, trace.Succeeded);
        }, cancellationToken);
        var end = Stopwatch.GetTimestamp();
        _progress?.LevelFinished(concurrency);
        return LevelStatistics.From(concurrency, traces, start, end);
    }

    /// <summary>
    /// <paramref name="concurrency"/> clients each send a request, wait for it, and send the next, until request indices
    /// 0 .. <paramref name="requests"/> − 1 are used up.
    /// </summary>
    private static Task ClosedLoopAsync(int concurrency, int requests, Func<int, Task> send, CancellationToken cancellationToken)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, requests)).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                await send(i);
            }
        }, cancellationToken)));
    }
}
