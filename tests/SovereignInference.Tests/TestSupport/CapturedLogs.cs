using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// Every log entry of one server at Warning or above (added to its logger factory by <see cref="ServerHarness"/>),
/// so tests can assert that client input never produces an error-level log.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();

    public IReadOnlyList<CapturedLog> Entries => [.. _entries];

    /// <summary>Entries at Error or Critical.</summary>
    public IReadOnlyList<CapturedLog> Errors => [.. _entries.Where(e => e.Level >= LogLevel.Error)];

    /// <summary>Fails with the entries when any is at Error or Critical.</summary>
    public void AssertNoErrors()
    {
        var errors = Errors;
        Assert.True(errors.Count == 0, "error-level logs:\n" + string.Join("\n", errors.Select(e => $"{e.Level} {e.Category} [{e.EventId}] {e.Message} {e.Exception}")));
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._entries.Enqueue(new CapturedLog(logLevel, category, eventId.Id, formatter(state, exception), exception));
            }
        }
    }
}

/// <summary>One captured log entry.</summary>
public sealed record CapturedLog(LogLevel Level, string Category, int EventId, string Message, Exception? Exception);
