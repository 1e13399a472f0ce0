using System.Threading.RateLimiting;

namespace SovereignInference.Server.Security;

/// <summary>
/// Per-key limits on System.Threading.RateLimiting partitioned limiters (partition = key name):
/// requests per minute (fixed one-minute window), requests in flight (concurrency), and prompt+completion
/// tokens per minute (a token bucket refilled whole every minute). Token usage is only known when a
/// generation ends, so it is charged then (<see cref="ChargeTokens"/>); a key whose bucket is empty is
/// refused at the door until the bucket refills.
/// </summary>
public sealed class KeyRateLimiter : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly ApiKeyStore _keys;
    private readonly PartitionedRateLimiter<string> _requests;
    private readonly PartitionedRateLimiter<string> _concurrency;
    private readonly PartitionedRateLimiter<string> _tokens;

    public KeyRateLimiter(ApiKeyStore keys)
    {
        _keys = keys;
        _requests = PartitionedRateLimiter.Create<string, string>(name => Limit(name) is { RequestsPerMinute: > 0 } key
            ? RateLimitPartition.GetFixedWindowLimiter(name, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = key.RequestsPerMinute,
                Window = Window,
                QueueLimit = 0,
                AutoReplenishment = true,
            })
            : RateLimitPartition.GetNoLimiter(name));
        _concurrency = PartitionedRateLimiter.Create<string, string>(name => Limit(name) is { MaxConcurrentStreams: > 0 } key
            ? RateLimitPartition.GetConcurrencyLimiter(name, _ => new ConcurrencyLimiterOptions { PermitLimit = key.MaxConcurrentStreams, QueueLimit = 0 })
            : RateLimitPartition.GetNoLimiter(name));
        _tokens = PartitionedRateLimiter.Create<string, string>(name => Limit(name) is { TokensPerMinute: > 0 } key
            ? RateLimitPartition.GetTokenBucketLimiter(name, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = key.TokensPerMinute,
                TokensPerPeriod = key.TokensPerMinute,
                ReplenishmentPeriod = Window,
                QueueLimit = 0,
                AutoReplenishment = true,
            })
            : RateLimitPartition.GetNoLimiter(name));
    }

    /// <summary>
    /// Admits one request of <paramref name="keyName"/>: counts it against the request rate, checks that
    /// the token budget is not spent, and takes a concurrency permit, returned when the lease is disposed.
    /// </summary>
    public RateLimitDecision Admit(string keyName)
    {
        using (var request = _requests.AttemptAcquire(keyName))
        {
            if (!request.IsAcquired)
            {
                return RateLimitDecision.Refused(RateLimitKind.Requests, RetryAfter(request), $"Rate limit reached for key '{keyName}': requests per minute");
            }
        }

        // The bucket refills continuously (fractional permits), so "spent" means less than one whole token left;
        // acquiring zero permits would succeed on any fraction. A refused one-permit attempt consumes nothing
        // and carries the retry-after.
        if (_tokens.GetStatistics(keyName) is { CurrentAvailablePermits: < 1 })
        {
            using var budget = _tokens.AttemptAcquire(keyName, 1);
            if (!budget.IsAcquired)
            {
                return RateLimitDecision.Refused(RateLimitKind.Tokens, RetryAfter(budget), $"Rate limit reached for key '{keyName}': tokens per minute");
            }
        }

        var stream = _concurrency.AttemptAcquire(keyName);
        if (!stream.IsAcquired)
        {
            stream.Dispose();
            return RateLimitDecision.Refused(RateLimitKind.Concurrency, TimeSpan.FromSeconds(1), $"Rate limit reached for key '{keyName}': concurrent requests");
        }

        return RateLimitDecision.Admitted(stream);
    }

    /// <summary>Charges a finished generation's tokens to the key's budget (down to empty, never below).</summary>
    public void ChargeTokens(string keyName, int tokens)
    {
        for (var attempt = 0; attempt < 3 && tokens > 0; attempt++)
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
        Limit(keyName) is { TokensPerMinute: > 0 } ? _tokens.GetStatistics(keyName)?.CurrentAvailablePermits : null;

    public void Dispose()
    {
        _requests.Dispose();
        _concurrency.Dispose();
        _tokens.Dispose();
    }

    private ApiKey? Limit(string name) => _keys.ByName.TryGetValue(name, out var key) ? key : null;

    private static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) && retry > TimeSpan.Zero ? retry : TimeSpan.FromSeconds(1);
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
    private RateLimitDecision(RateLimitLease? lease, RateLimitKind? refusedBy, TimeSpan retryAfter, string? message)
    {
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

    public static RateLimitDecision Admitted(RateLimitLease lease) => new(lease, null, TimeSpan.Zero, null);

    public static RateLimitDecision Refused(RateLimitKind kind, TimeSpan retryAfter, string message) => new(null, kind, retryAfter, message);

    public void Dispose() => Lease?.Dispose();
}
