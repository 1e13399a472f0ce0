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
    public static int Main(string[] args)
    {
        var config = DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.JoinSummary);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToList();
        return CheckBudgets(summaries) ? 0 : 1;
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

                var verdict = allocated <= budget.BytesPerOperation ? "within" : "OVER";
                ok &= allocated <= budget.BytesPerOperation;
                Console.WriteLine($"allocation budget {verdict}: {report.BenchmarkCase.DisplayInfo}: {allocated} B/op (budget {budget.BytesPerOperation})");
            }
        }

        return ok;
    }
}
