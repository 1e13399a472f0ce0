namespace SovereignInference.Engine.Scheduling;

/// <summary>Scheduler-thread state of an admitted request.</summary>
internal sealed class ActiveSequence(SequenceRequest request, Slot slot, int reused)
{
    public SequenceRequest Request { get; } = request;

    public Slot Slot { get; } = slot;

    /// <summary>Next prompt index to feed; equals the prompt length once prefill is complete.</summary>
    public int PrefillCursor { get; set; } = reused;

    /// <summary>Sampled token waiting to be decoded next step; -1 while prefilling.</summary>
    public int PendingToken { get; set; } = -1;

    /// <summary>Index of this sequence's logits row in the current batch, or -1.</summary>
    public int LogitsIndex { get; set; } = -1;

    /// <summary>Tokens fed in the current batch (appended to the slot after a successful decode).</summary>
    public int FedFrom { get; set; }

    public int FedCount { get; set; }

    /// <summary>Copy of this sequence's logits row that its constraint masks (allocated on first use).</summary>
    public float[]? ConstraintScratch { get; set; }

    public bool IsPrefilling => PendingToken < 0;
}
