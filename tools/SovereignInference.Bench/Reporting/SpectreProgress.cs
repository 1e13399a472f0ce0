using System.Collections.Concurrent;
using System.Globalization;
using SovereignInference.Bench.Running;
using Spectre.Console;

namespace SovereignInference.Bench.Reporting;

/// <summary>A Spectre.Console progress bar per concurrency level, advanced as requests finish.</summary>
internal sealed class SpectreProgress : IBenchProgress
{
    private readonly ProgressContext _context;
    private readonly ConcurrentDictionary<int, (ProgressTask Task, int Failed)> _tasks = new();

    public SpectreProgress(ProgressContext context) => _context = context;

    /// <summary>Runs <paramref name="body"/> under a live progress display on <paramref name="console"/>.</summary>
    public static Task<T> RunAsync<T>(IAnsiConsole console, Func<IBenchProgress, Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(body);
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(context => body(new SpectreProgress(context)));
    }

    public void LevelStarted(int concurrency, int requests) =>
        _tasks[concurrency] = (_context.AddTask(Label(concurrency, 0), maxValue: requests), 0);

    public void RequestFinished(int concurrency, bool succeeded)
    {
        var (task, failed) = _tasks.AddOrUpdate(concurrency, _ => throw new InvalidOperationException("level not started"), (_, entry) => (entry.Task, entry.Failed + (succeeded ? 0 : 1)));
        task.Description = Label(concurrency, failed);
        task.Increment(1);
    }

    public void LevelFinished(int concurrency)
    {
        if (_tasks.TryGetValue(concurrency, out var entry))
        {
            entry.Task.StopTask();
        }
    }

    private static string Label(int concurrency, int failed) =>
        failed == 0
            ? string.Create(CultureInfo.InvariantCulture, $"concurrency {concurrency}")
            : string.Create(CultureInfo.InvariantCulture, $"concurrency {concurrency} [red]({failed} failed)[/]");
}
