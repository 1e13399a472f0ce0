using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace SovereignInference.Server.Security;

/// <summary>
/// Per-key limits on System.Threading.RateLimiting partitioned limiters (partition = key name):
/// requests per minute (fixed one-minute window), requests in flight (concurrency), and prompt+completion
/// tokens per minute (a token bucket refilled whole every minute). Token usage is only known when a
/// generation ends, so it is charged then (<see cref="ChargeTokens"/>); a key whose bucket is empty is
/// refused at the door until the bucket refills. It also counts, per configured key, the requests admitted and
/// refused, the tokens charged and the requests in flight since start (<see cref="Usage"/>, GET /admin/usage).
/// </summary>
/// <remarks>
/// A partitioned limiter runs a 100 ms timer for as long as it lives, so a limit no configured key sets gets no limiter:
/// three of them woke the thread pool 30 times a second, on a CPU server beside the decode threads, with no key limited.
/// </remarks>
public sealed class KeyRateLimiter : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly ApiKeyStore _keys;
    private readonly PartitionedRateLimiter<string>? _requests;
    private readonly PartitionedRateLimiter<string>? _concurrency;
    private readonly PartitionedRateLimiter<string>? _tokens;
    private readonly ConcurrentDictionary<string, KeyCounters> _counters = new(StringComparer.Ordinal);

    public KeyRateLimiter(ApiKeyStore keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
        _requests = LimiterFor(keys, k => k.RequestsPerMinute, (name, limit) => RateLimitPartition.GetFixedWindowLimiter(name, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit,
            Window = Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        _concurrency = LimiterFor(keys, k => k.MaxConcurrentStreams, (name, limit) => RateLimitPartition.GetConcurrencyLimiter(name, _ => new ConcurrencyLimiterOptions { PermitLimit = limit, QueueLimit = 0 }));
        _tokens = LimiterFor(keys, k => k.TokensPerMinute, (name, limit) => RateLimitPartition.GetTokenBucketLimiter(name, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit,
            TokensPerPeriod = limit,
            ReplenishmentPeriod = Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>How many partitioned limiters (each with its 100 ms timer) run: one per kind of limit some key sets.</summary>
    internal int LimiterCount => (_requests is null ? 0 : 1) + (_concurrency is null ? 0 : 1) + (_tokens is null ? 0 : 1);

    /// <summary>
    /// Admits one request of <paramref name="keyName"/>: counts it against the request rate, checks that
    /// the token budget is not spent, and takes a concurrency permit, returned when the lease is disposed.
    /// </summary>
    public RateLimitDecision Admit(string keyName)
    {
        var counters = CountersOf(keyName);
        var decision = Decide(keyName, counters);
        if (counters is not null && decision.IsAdmitted)
        {
            Interlocked.Increment(ref counters.Requests);
        }
        else if (counters is not null)
        {
            Interlocked.Increment(ref counters.Refused);
        }

        return decision;
    }

    private RateLimitDecision Decide(string keyName, KeyCounters? counters)
    {
        using (var request = _requests?.AttemptAcquire(keyName))
        {
            if (request is { IsAcquired: false })
            {
                return RateLimitDecision.Refused(RateLimitKind.Requests, RetryAfter(request), $"Rate limit reached for key '{keyName}': requests per minute");
            }
        }

        // The bucket refills continuously (fractional permits), so "spent" means less than one whole token left;
        // acquiring zero permits would succeed on any fraction. A refused one-permit attempt consumes nothing
        // and carries the retry-after.
        if (_tokens?.GetStatistics(keyName) is { CurrentAvailablePermits: < 1 })
        {
            using var budget = _tokens.AttemptAcquire(keyName, 1);
            if (!budget.IsAcquired)
            {
                return RateLimitDecision.Refused(RateLimitKind.Tokens, RetryAfter(budget), $"Rate limit reached for key '{keyName}': tokens per minute");
            }
        }

        var stream = _concurrency?.AttemptAcquire(keyName);
        if (stream is { IsAcquired: false })
        {
            stream.Dispose();
            return RateLimitDecision.Refused(RateLimitKind.Concurrency, TimeSpan.FromSeconds(1), $"Rate limit reached for key '{keyName}': concurrent requests");
        }

        if (counters is null)
        {
            return RateLimitDecision.Admitted(stream);
        }

        Interlocked.Increment(ref counters.InFlight);
        return RateLimitDecision.Admitted(stream, () => Interlocked.Decrement(ref counters.InFlight));
    }

    /// <summary>Charges a finished generation's tokens to the key's budget (down to empty, never below).</summary>
    public void ChargeTokens(string keyName, int tokens)
    {
        if (tokens > 0 && CountersOf(keyName) is { } counters)
        {
            Interlocked.Add(ref counters.Tokens, tokens);
        }

        for (var attempt = 0; attempt < 3 && tokens > 0 && _tokens is not null; attempt++)
        {
            var available = (int)Math.Min(tokens, _tokens.GetStatistics(keyName)?.CurrentAvailablePermits ?? 0);
            if (available <= 0)
            {
                return;
            }

            using var lease = _tokens.AttemptAcquire(keyName, available);
            if (lease.IsAcquired)
            {
                return;
            }
        }
    }

    /// <summary>Tokens the key may still spend in this window (null when unlimited).</summary>
    public long? TokensAvailable(string keyName) =>
        Limit(keyName) is { TokensPerMinute: > 0 } ? _tokens?.GetStatistics(keyName)?.CurrentAvailablePermits : null;

    /// <summary>
    /// What <paramref name="key"/> has used: totals since start, requests in flight, and for each limit that is set
    /// the part of the current one-minute window already used (null when that limit is unlimited).
    /// </summary>
    public KeyUsage Usage(ApiKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var counters = CountersOf(key.Name) ?? new KeyCounters();
        long? Used(PartitionedRateLimiter<string>? limiter, int limit) =>
            limit > 0 && limiter?.GetStatistics(key.Name) is { } statistics ? Math.Max(0, limit - statistics.CurrentAvailablePermits) : null;
        return new KeyUsage(
            Interlocked.Read(ref counters.Requests),
            Interlocked.Read(ref counters.Refused),
            Interlocked.Read(ref counters.Tokens),
            Volatile.Read(ref counters.InFlight),
            Used(_requests, key.RequestsPerMinute),
            Used(_tokens, key.TokensPerMinute));
    }

    public void Dispose()
    {
        _requests?.Dispose();
        _concurrency?.Dispose();
        _tokens?.Dispose();
    }

    /// <summary>
    /// One partitioned limiter for the limit <paramref name="limitOf"/> reads from a key: a partition of its own for each
    /// key that sets it (above 0), none for the others; null when no configured key sets it.
    /// </summary>
    private static PartitionedRateLimiter<string>? LimiterFor(ApiKeyStore keys, Func<ApiKey, int> limitOf, Func<string, int, RateLimitPartition<string>> limited)
    {
        if (!keys.Keys.Any(k => limitOf(k) > 0))
        {
            return null;
        }

        return PartitionedRateLimiter.Create<string, string>(name => keys.ByName.TryGetValue(name, out var key) && limitOf(key) is > 0 and var limit
            ? limited(name, limit)
            : RateLimitPartition.GetNoLimiter(name));
    }

    private ApiKey? Limit(string name) => _keys.ByName.TryGetValue(name, out var key) ? key : null;

    /// <summary>The counters of a configured key; null for any other name (a client-claimed user when keys are off).</summary>
    private KeyCounters? CountersOf(string name) => _keys.ByName.ContainsKey(name) ? _counters.GetOrAdd(name, _ => new KeyCounters()) : null;

    private static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) && retry > TimeSpan.Zero ? retry : TimeSpan.FromSeconds(1);
}

/// <summary>
/// One key's usage: requests admitted and refused, prompt+completion tokens charged (totals since start), requests
/// in flight now, and the requests and tokens used in the current one-minute window of a limit that is set (else null).
/// </summary>
public sealed record KeyUsage(long Requests, long Refused, long Tokens, int InFlight, long? RequestsThisWindow, long? TokensThisWindow);

/// <summary>Counters of one key, changed with Interlocked.</summary>
internal sealed class KeyCounters
{
    public long Requests;
    public long Refused;
    public long Tokens;
    public int InFlight;
}

/// <summary>Which limit refused a request.</summary>
public enum RateLimitKind
{
    /// <summary>Requests per minute.</summary>
    Requests,

    /// <summary>Tokens per minute.</summary>
    Tokens,

    /// <summary>Requests in flight at once.</summary>
    Concurrency,
}

/// <summary>The outcome of <see cref="KeyRateLimiter.Admit"/>: a lease to hold for the request, or why not.</summary>
public sealed class RateLimitDecision : IDisposable
{
    private Action? _released;

    private RateLimitDecision(RateLimitLease? lease, RateLimitKind? refusedBy, TimeSpan retryAfter, string? message, Action? released = null)
    {
        _released = released;
        Lease = lease;
        RefusedBy = refusedBy;
        RetryAfter = retryAfter;
        Message = message;
    }

    public bool IsAdmitted => RefusedBy is null;

    public RateLimitKind? RefusedBy { get; }

    public TimeSpan RetryAfter { get; }

    public string? Message { get; }

    private RateLimitLease? Lease { get; }

    /// <summary>Whole seconds for a Retry-After header (at least 1).</summary>
    public int RetryAfterSeconds => (int)Math.Max(1, Math.Ceiling(RetryAfter.TotalSeconds));

    /// <param name="released">Runs once when the decision is disposed (the request is over).</param>
    /// <param name="lease">The concurrency permit to return at the end; null when no key limits concurrency.</param>
    public static RateLimitDecision Admitted(RateLimitLease? lease, Action? released = null) => new(lease, null, TimeSpan.Zero, null, released);

    public static RateLimitDecision Refused(RateLimitKind kind, TimeSpan retryAfter, string message) => new(null, kind, retryAfter, message);

    public void Dispose()
    {
        Lease?.Dispose();
        Interlocked.Exchange(ref _released, null)?.Invoke();
    }
}
