namespace SovereignInference.Engine.Scheduling;

/// <summary>A consistent view of a scheduler taken on its own thread between steps.</summary>
public sealed record SchedulerSnapshot(
    int ActiveSequences,
    int QueuedRequests,
    int KvCellsUsed,
    int KvCellsCapacity,
    IReadOnlyList<int> SlotLengths);
