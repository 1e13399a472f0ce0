using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// A logger provider that keeps every entry at Warning or above a server writes, so a test can assert that a
/// client's fault left no error-level log (as grpc-dotnet's VerifyNoErrorsScope does).
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, EventId Id, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Category, EventId Id, string Message)> Entries => [.. _entries];

    /// <summary>Entries at Error or Critical, formatted one per line (empty when there are none).</summary>
    public string Errors => string.Join(
        Environment.NewLine,
        _entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Level} {e.Category} [{e.Id}]: {e.Message}"));

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
                owner._entries.Enqueue((logLevel, category, eventId, formatter(state, exception) + (exception is null ? "" : " | " + exception)));
            }
        }
    }
}
