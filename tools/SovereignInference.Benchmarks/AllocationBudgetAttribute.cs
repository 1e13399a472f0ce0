namespace SovereignInference.Benchmarks;

/// <summary>
/// Most bytes one operation of this benchmark may allocate (MemoryDiagnoser's "Allocated" column, all threads).
/// <see cref="Program"/> checks every report after the run and exits with 1 when one is over its budget, so a
/// per-token allocation that creeps in fails the benchmark run rather than a timed unit test.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AllocationBudgetAttribute(long bytesPerOperation) : Attribute
{
    public long BytesPerOperation { get; } = bytesPerOperation;

    /// <summary>A numeric benchmark parameter the budget is multiplied by (e.g. "Streams": bytes per stream), or null.</summary>
    public string? PerUnitOf { get; init; }
}
