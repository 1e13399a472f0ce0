using System.Diagnostics;
using System.Threading.Channels;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;

namespace SovereignInference.Engine.Scheduling;

/// <summary>
/// A validated, tokenized request on its way through the scheduler. The caller's side reads
/// <see cref="Events"/>; the scheduler thread writes them. Cancellation is a flag the scheduler
/// checks before every step, so a cancelled sequence leaves the batch within one step.
/// </summary>
public sealed class SequenceRequest
{
    private const int NotCancelled = 0;
    private const int CancelAndFree = 1;
    private const int CancelKeepCache = 2;

    private readonly Channel<SequenceEvent> _events = Channel.CreateUnbounded<SequenceEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = false });

    private int _cancelState;
    private Action? _wake;
    private ITokenConstraint? _constraint;

    public SequenceRequest(GenerationRequest request, int[] promptTokens, int maxNewTokens, TokenSampler sampler, ITokenConstraint? constraint = null)
    {
        Generation = request;
        PromptTokens = promptTokens;
        MaxNewTokens = maxNewTokens;
        Sampler = sampler;
        _constraint = constraint;
        EnqueuedAt = Stopwatch.GetTimestamp();
    }

    /// <summary>The transport-independent request this sequence serves (sampling, stop, user, ignore_eos).</summary>
    public GenerationRequest Generation { get; }

    public int[] PromptTokens { get; }

    public int MaxNewTokens { get; }

    /// <summary>Owned by the scheduler thread once admitted.</summary>
    internal TokenSampler Sampler { get; }

    /// <summary>The request's grammar, if any. Owned by the scheduler thread once admitted; disposed when the sequence ends.</summary>
    internal ITokenConstraint? Constraint => _constraint;

    public ChannelReader<SequenceEvent> Events => _events.Reader;

    internal ChannelWriter<SequenceEvent> Writer => _events.Writer;

    public long EnqueuedAt { get; }

    /// <summary>Stopwatch timestamp when a slot was assigned (0 until then).</summary>
    public long StartedAt { get; internal set; }

    /// <summary>Stopwatch timestamp of the first sampled token (0 until then).</summary>
    public long FirstTokenAt { get; internal set; }

    /// <summary>Prompt tokens whose KV cells were reused from an earlier request.</summary>
    public int CachedPromptTokens { get; internal set; }

    /// <summary>Tokens sampled so far.</summary>
    public int GeneratedTokens { get; internal set; }

    public bool IsCancellationRequested => Volatile.Read(ref _cancelState) != NotCancelled;

    /// <summary>Whether the KV cells must be dropped (caller gone) rather than kept for prefix reuse (stop string).</summary>
    internal bool FreeCacheOnCancel => Volatile.Read(ref _cancelState) == CancelAndFree;

    internal void AttachWake(Action wake) => _wake = wake;

    /// <summary>Disposes the constraint (once); called where the sequence ends, or by the caller when it never got queued.</summary>
    internal void ReleaseConstraint() => Interlocked.Exchange(ref _constraint, null)?.Dispose();

    /// <summary>
    /// Asks the scheduler to drop this sequence. <paramref name="keepCache"/> keeps its KV cells for
    /// prefix reuse (used when a stop string ended it); otherwise they are freed.
    /// </summary>
    public void Cancel(bool keepCache = false)
    {
        if (Interlocked.CompareExchange(ref _cancelState, keepCache ? CancelKeepCache : CancelAndFree, NotCancelled) == NotCancelled)
        {
            _wake?.Invoke();
        }
    }
}
