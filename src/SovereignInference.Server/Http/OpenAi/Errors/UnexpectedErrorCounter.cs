namespace SovereignInference.Server.Http.OpenAi.Errors;

/// <summary>Counts requests that reached the last-resort 500 handler (tests assert client input never does).</summary>
public sealed class UnexpectedErrorCounter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    internal void Increment() => Interlocked.Increment(ref _count);
}
