using System.Reflection;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace SovereignInference.Benchmarks;

/// <summary>
/// Runs the per-token benchmarks: <c>dotnet run -c Release --project tools/SovereignInference.Benchmarks -- --filter '*'
/// --job short --inProcess</c> (any BenchmarkDotNet arguments; <c>--inProcess</c> skips building a generated project).
/// MemoryDiagnoser is always on; afterwards every benchmark with an <see cref="AllocationBudgetAttribute"/> is checked
/// against its budget.
/// </summary>
public static class Program
{
    /// <summary>Size of the smallest object on the 64-bit managed heap.</summary>
    private const long MinObjectBytes = 24;

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--sample-loop")
        {
            return SampleLoop(args);
        }

        var config = DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.JoinSummary);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToList();
        return CheckBudgets(summaries) ? 0 : 1;
    }

    /// <summary>
    /// <c>--sample-loop VOCAB SETTING CALLS [logprobs]</c>: <see cref="SamplerBenchmarks"/>' setup, then CALLS samples and
    /// nothing else, for a process-level counter run at two CALLS values and differenced: CPU seconds (<c>/usr/bin/time</c>,
    /// steadier than BenchmarkDotNet's wall clock on a machine shared with other builds) or instructions
    /// (<c>valgrind --tool=callgrind</c>, repeatable).
    /// </summary>
    private static int SampleLoop(string[] args)
    {
        var bench = new SamplerBenchmarks
        {
            Vocab = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture),
            Setting = args[2],
        };
        bench.Setup();
        var calls = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        var logprobs = args.Length > 4 && args[4] == "logprobs";
        var sum = 0L;
        for (var i = 0; i < calls; i++)
        {
            sum += logprobs ? bench.SampleWithTop5Logprobs() : bench.Sample();
        }

        Console.WriteLine(sum);
        Console.Error.WriteLine($"Vector<float>.Count={System.Numerics.Vector<float>.Count} accelerated={System.Numerics.Vector.IsHardwareAccelerated} Vector512={System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        return 0;
    }

    private static bool CheckBudgets(IEnumerable<Summary> summaries)
    {
        var ok = true;
        foreach (var summary in summaries)
        {
            foreach (var report in summary.Reports)
            {
                var method = report.BenchmarkCase.Descriptor.WorkloadMethod;
                if (method.GetCustomAttribute<AllocationBudgetAttribute>() is not { } budget)
                {
                    continue;
                }

                var allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
                if (allocated is null)
                {
                    continue;
                }

                // Process-wide counting also sees one-off allocations of other threads (the tiered JIT, timers) spread over
                // the operations: a few bytes per operation. No object is smaller than 24 bytes, so only an excess of 24
                // or more can be an allocation made by every operation.
                var limit = budget.BytesPerOperation;
                if (budget.PerUnitOf is { } parameter)
                {
                    limit *= Convert.ToInt64(report.BenchmarkCase.Parameters[parameter], System.Globalization.CultureInfo.InvariantCulture);
                }

                var within = allocated - limit < MinObjectBytes;
                var verdict = within ? "within" : "OVER";
                ok &= within;
                Console.WriteLine($"allocation budget {verdict}: {report.BenchmarkCase.DisplayInfo}: {allocated} B/op (budget {limit})");
            }
        }

        return ok;
    }
}
