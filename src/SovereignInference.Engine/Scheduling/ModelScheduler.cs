using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Observability;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;

namespace SovereignInference.Engine.Scheduling;

/// <summary>
/// Continuous batching for one model. A single dedicated thread owns the <see cref="IModelRunner"/> and
/// runs <c>step()</c> in a loop: reap cancelled sequences, admit queued requests into free slots (reusing
/// cached prefixes), plan one batch (a token for every generating sequence first, then prompt chunks under
/// the prefill budget), decode once, sample per sequence, publish events. Everything else talks to it
/// through the fair admission queue, the cancellation flag of each request and the work-item queue.
/// </summary>
public sealed partial class ModelScheduler : IDisposable
{
    private readonly IModelRunner _runner;
    private readonly ITokenizer _tokenizer;
    private readonly SchedulerOptions _options;
    private readonly ILogger _logger;
    private readonly FairAdmissionQueue<SequenceRequest> _admission;
    private readonly ConcurrentQueue<Action> _workItems = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Slot[] _slots;
    private readonly List<ActiveSequence> _active = [];
    private readonly BatchToken[] _batch;
    private readonly int[] _waitingPromptTokens;
    private readonly PrefillBudget _prefillBudget;
    private readonly Thread _thread;
    private readonly string _name;
    private volatile bool _stopping;
    private long _step;
    private int _activeCount;
    private int _queued;
    private int _kvCellsUsed;

    public ModelScheduler(string name, IModelRunner runner, ITokenizer tokenizer, SchedulerOptions options, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.QueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PrefillChunkTokens, 1);
        _name = name;
        _runner = runner;
        _tokenizer = tokenizer;
        _options = options;
        _logger = logger;
        _admission = new FairAdmissionQueue<SequenceRequest>(options.QueueCapacity, r => r.Generation.User, options.UserWeight);
        _slots = Enumerable.Range(0, runner.MaxSequences).Select(i => new Slot(i)).ToArray();
        _batch = new BatchToken[runner.MaxBatchTokens];
        _waitingPromptTokens = new int[runner.MaxSequences];
        _prefillBudget = new PrefillBudget(options.PrefillChunkTokens, options.MaxStepFactor, runner.MaxSequences);
        _thread = new Thread(Run) { IsBackground = true, Name = $"sovereign-decode:{name}" };
        _thread.Start();
    }

    /// <summary>Raised on the scheduler thread after every decode step (metrics, tests). Keep handlers cheap.</summary>
    public event Action<StepRecord>? StepCompleted;

    /// <summary>Sequences holding a slot right now.</summary>
    public int ActiveSequences => Volatile.Read(ref _activeCount);

    /// <summary>Requests waiting for a slot.</summary>
    public int QueuedRequests => Volatile.Read(ref _queued);

    /// <summary>KV cells in use across all slots (including cached prefixes of finished requests).</summary>
    public int KvCellsUsed => Volatile.Read(ref _kvCellsUsed);

    public int KvCellsCapacity => _runner.SequenceContextSize * _runner.MaxSequences;

    public int SequenceContextSize => _runner.SequenceContextSize;

    /// <summary>Queues a request; throws Overloaded at once when the queue is full.</summary>
    public void Enqueue(SequenceRequest request)
    {
        if (_stopping)
        {
            throw new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down and accepts no new requests");
        }

        request.AttachWake(Wake);
        Interlocked.Increment(ref _queued);
        if (!_admission.TryEnqueue(request))
        {
            Interlocked.Decrement(ref _queued);
            if (_stopping)
            {
                throw new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down and accepts no new requests");
            }

            throw new EngineException(
                EngineErrorCode.Overloaded,
                $"model '{_name}' is overloaded: {_options.QueueCapacity} requests already wait for a slot; retry later",
                retryAfter: _options.RetryAfter);
        }

        Wake();
    }

    /// <summary>Runs <paramref name="work"/> on the scheduler thread between steps.</summary>
    public Task<T> InvokeAsync<T>(Func<T> work)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _workItems.Enqueue(() =>
        {
            try
            {
                tcs.SetResult(work());
            }
#pragma warning disable CA1031 // the exception is handed to the caller
            catch (Exception ex)
#pragma warning restore CA1031
            {
                tcs.SetException(ex);
            }
        });
        Wake();
        return tcs.Task;
    }

    /// <summary>A view of slots and KV usage taken on the scheduler thread.</summary>
    public Task<SchedulerSnapshot> SnapshotAsync() => InvokeAsync(() => new SchedulerSnapshot(
        _active.Count,
        QueuedRequests,
        _slots.Sum(s => _runner.SequenceLength(s.Id)),
        KvCellsCapacity,
        _slots.Select(s => _runner.SequenceLength(s.Id)).ToArray()));

    /// <summary>Stops admitting; queued and active sequences are cancelled; the thread exits.</summary>
    public void Dispose()
    {
        _stopping = true;
        _admission.Complete();
        Wake();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        _wake.Dispose();
    }

    private void Wake() => _wake.Set();

    private void Run()
    {
        while (true)
        {
            _wake.Reset();
            RunWorkItems();
            if (_stopping)
            {
                CancelEverything();
                RunWorkItems();
                return;
            }

            ReapCancelled();
            Admit();
            if (_active.Count == 0)
            {
                if (_admission.Count == 0 && _workItems.IsEmpty)
                {
                    _wake.Wait();
                }

                continue;
            }

            Step();
        }
    }

    private void RunWorkItems()
    {
        while (_workItems.TryDequeue(out var work))
        {
            work();
        }
    }

    private void Step()
    {
        var started = Stopwatch.GetTimestamp();
        var (count, decodeSeqs, prefillTokens, prefillSeqs) = PlanBatch();
        var decodeStarted = Stopwatch.GetTimestamp();
        long decodedAt;
        try
        {
            _runner.Decode(_batch.AsSpan(0, count));
            decodedAt = Stopwatch.GetTimestamp();
        }
        catch (EngineException ex)
        {
            LogDecodeFailed(_logger, ex, _name, count);
            FailBatch(ex);
            return;
        }

        var decodeElapsed = Stopwatch.GetElapsedTime(decodeStarted, decodedAt);
        _prefillBudget.Observe(decodeSeqs, prefillTokens, decodeElapsed.TotalSeconds);
        CommitFedTokens();
        SampleAndPublish();
        _step++;
        Volatile.Write(ref _kvCellsUsed, CachedTokens());
        StepCompleted?.Invoke(new StepRecord(_step, decodeSeqs, prefillTokens, prefillSeqs, _active.Count, Stopwatch.GetElapsedTime(started), decodeElapsed));
    }

    /// <summary>
    /// Decode first: one token for every generating sequence, in slot order; then prompt chunks under the budget
    /// (<see cref="PrefillBudget"/>: while the batch fills, as many whole prompts as are worth taking together; otherwise
    /// what keeps the step short), which goes to the oldest prompts first, their tokens again in slot order.
    /// </summary>
    /// <remarks>
    /// Slot order matters: with one KV stream per sequence llama.cpp splits a batch into micro-batches of sequences
    /// with consecutive ids in the order their tokens appear (llama_batch_allocr::split_equal, sequential), and each
    /// micro-batch is a whole pass over the weights. Generating sequences listed in admission order (say 3, 1, 7, 0,
    /// ...) once cost four passes per step where one does: 8-stream steps grew from ~21 to ~40 ms after slots had
    /// been handed out out of order.
    /// </remarks>
    private (int Count, int DecodeSeqs, int PrefillTokens, int PrefillSeqs) PlanBatch()
    {
        var count = 0;
        var decodeSeqs = 0;
        foreach (var seq in _active)
        {
            seq.LogitsIndex = -1;
            seq.FedCount = 0;
        }

        foreach (var slot in _slots)
        {
            if (slot.Owner is not { } seq || seq.IsPrefilling)
            {
                continue;
            }

            seq.FedFrom = seq.Slot.Tokens.Count;
            seq.FedCount = 1;
            seq.LogitsIndex = count;
            _batch[count++] = new BatchToken(seq.PendingToken, seq.Slot.Tokens.Count, seq.Slot.Id, WantLogits: true);
            decodeSeqs++;
        }

        // With no prompt waiting (the usual decode step) there is nothing to size.
        var prefilling = 0;
        foreach (var seq in _active)
        {
            if (seq.IsPrefilling)
            {
                _waitingPromptTokens[prefilling++] = seq.Request.PromptTokens.Length - seq.PrefillCursor;
            }
        }

        var budget = prefilling == 0 ? 0 : Math.Min(_prefillBudget.Next(decodeSeqs, _waitingPromptTokens.AsSpan(0, prefilling)), _batch.Length - count);
        var prefillTokens = 0;
        var prefillSeqs = 0;

        // The budget goes to the oldest prompts first; their tokens then go into the batch in slot order.
        foreach (var seq in _active)
        {
            if (budget <= 0)
            {
                break;
            }

            if (!seq.IsPrefilling)
            {
                continue;
            }

            var take = Math.Min(seq.Request.PromptTokens.Length - seq.PrefillCursor, budget);
            seq.FedFrom = seq.PrefillCursor;
            seq.FedCount = take;
            budget -= take;
            prefillTokens += take;
            prefillSeqs++;
        }

        foreach (var slot in _slots)
        {
            if (slot.Owner is not { IsPrefilling: true, FedCount: > 0 } seq)
            {
                continue;
            }

            var prompt = seq.Request.PromptTokens;
            for (var i = 0; i < seq.FedCount; i++)
            {
                var index = seq.PrefillCursor + i;
                var last = index == prompt.Length - 1;
                if (last)
                {
                    seq.LogitsIndex = count;
                }

                _batch[count++] = new BatchToken(prompt[index], index, seq.Slot.Id, last);
            }
        }

        return (count, decodeSeqs, prefillTokens, prefillSeqs);
    }

    private void CommitFedTokens()
    {
        foreach (var seq in _active)
        {
            if (seq.FedCount == 0)
            {
                continue;
            }

            if (seq.IsPrefilling)
            {
                var prompt = seq.Request.PromptTokens;
                for (var i = 0; i < seq.FedCount; i++)
                {
                    seq.Slot.Tokens.Add(prompt[seq.FedFrom + i]);
                }

                seq.PrefillCursor += seq.FedCount;
            }
            else
            {
                seq.Slot.Tokens.Add(seq.PendingToken);
            }
        }
    }

    private void SampleAndPublish()
    {
        var now = Stopwatch.GetTimestamp();
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var seq = _active[i];
            if (seq.LogitsIndex < 0)
            {
                continue;
            }

            var request = seq.Request;
            SampledToken sampled;
            if (request.Constraint is { } constraint)
            {
                if (!TrySampleConstrained(seq, constraint, out sampled, out var error))
                {
                    LogConstraintFailed(_logger, error, _name);
                    Finish(i, FinishReason.Error, error);
                    continue;
                }
            }
            else
            {
                sampled = request.Sampler.Sample(_runner.GetLogits(seq.LogitsIndex));
            }

            if (request.FirstTokenAt == 0)
            {
                request.FirstTokenAt = now;
            }

            request.GeneratedTokens++;
            var endOfGeneration = !request.Generation.IgnoreEos && _tokenizer.IsEndOfGeneration(sampled.Token);
            if (endOfGeneration)
            {
                Finish(i, FinishReason.Stop);
                continue;
            }

            if (request.Constraint is { } accepting && !TryAccept(accepting, sampled.Token, out var acceptError))
            {
                LogConstraintFailed(_logger, acceptError, _name);
                Finish(i, FinishReason.Error, acceptError);
                continue;
            }

            request.Writer.TryWrite(SequenceEvent.ForToken(new GeneratedToken(sampled.Token, sampled.Logprob, sampled.TopLogprobs)));
            if (request.GeneratedTokens >= request.MaxNewTokens || seq.Slot.Tokens.Count + 1 >= _runner.SequenceContextSize)
            {
                Finish(i, FinishReason.Length);
                continue;
            }

            seq.PendingToken = sampled.Token;
        }
    }

    /// <summary>Masks a copy of the logits row with the sequence's constraint and samples from it.</summary>
    private bool TrySampleConstrained(ActiveSequence seq, ITokenConstraint constraint, out SampledToken sampled, out EngineException error)
    {
        var logits = _runner.GetLogits(seq.LogitsIndex);
        var scratch = seq.ConstraintScratch ??= new float[logits.Length];
        logits.CopyTo(scratch);
        try
        {
            constraint.Apply(scratch);
        }
        catch (EngineException ex)
        {
            sampled = default;
            error = ex;
            return false;
        }

        sampled = seq.Request.Sampler.Sample(scratch);
        if (float.IsNegativeInfinity(scratch[sampled.Token]) || float.IsNaN(scratch[sampled.Token]))
        {
            error = new EngineException(EngineErrorCode.BackendFailure, "the grammar allows no token of this model's vocabulary here; generation stopped");
            return false;
        }

        error = null!;
        return true;
    }

    private static bool TryAccept(ITokenConstraint constraint, int token, out EngineException error)
    {
        try
        {
            constraint.Accept(token);
            error = null!;
            return true;
        }
        catch (EngineException ex)
        {
            error = ex;
            return false;
        }
    }

    private void Admit()
    {
        while (_active.Count < _slots.Length && _admission.TryDequeue(out var request))
        {
            Interlocked.Decrement(ref _queued);
            if (request.IsCancellationRequested)
            {
                request.ReleaseConstraint();
                request.Writer.TryWrite(SequenceEvent.Finished(FinishReason.Cancelled));
                request.Writer.TryComplete();
                continue;
            }

            var (slot, reuse) = ChooseSlot(request.PromptTokens);
            if (slot.Tokens.Count > reuse)
            {
                _runner.TruncateSequence(slot.Id, reuse);
                slot.Tokens.RemoveRange(reuse, slot.Tokens.Count - reuse);
            }

            var seq = new ActiveSequence(request, slot, reuse);
            slot.Owner = seq;
            slot.LastUsedStep = _step;
            request.CachedPromptTokens = reuse;
            request.StartedAt = Stopwatch.GetTimestamp();
            _active.Add(seq);
        }

        Volatile.Write(ref _activeCount, _active.Count);
    }

    /// <summary>
    /// The free slot whose cached tokens share the longest prefix with the prompt; with no shared prefix,
    /// the least recently used free slot. At least one prompt token is always re-fed, for its logits.
    /// </summary>
    private (Slot Slot, int Reuse) ChooseSlot(int[] prompt)
    {
        Slot? best = null;
        var bestPrefix = -1;
        foreach (var slot in _slots)
        {
            if (!slot.IsFree)
            {
                continue;
            }

            var prefix = slot.CommonPrefixLength(prompt);
            if (prefix > bestPrefix || (prefix == bestPrefix && slot.LastUsedStep < best!.LastUsedStep))
            {
                best = slot;
                bestPrefix = prefix;
            }
        }

        return (best!, Math.Min(bestPrefix, prompt.Length - 1));
    }

    private void ReapCancelled()
    {
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            if (_active[i].Request.IsCancellationRequested)
            {
                Finish(i, FinishReason.Cancelled);
            }
        }
    }

    private void Finish(int index, FinishReason reason, EngineException? error = null)
    {
        var seq = _active[index];
        _active.RemoveAt(index);
        var slot = seq.Slot;
        slot.Owner = null;
        slot.LastUsedStep = _step;
        var freeCache = error is not null || (reason == FinishReason.Cancelled && seq.Request.FreeCacheOnCancel);
        if (freeCache || seq.PrefillCursor < seq.Request.PromptTokens.Length)
        {
            // A half-filled prompt is cheap to redo and would otherwise pin a partial prefix. A prompt fed whole
            // stays cached even when the request ended on its first sampled token (max_tokens 1, or EOS at once).
            FreeSlot(slot);
        }

        seq.Request.ReleaseConstraint();
        seq.Request.Writer.TryWrite(SequenceEvent.Finished(reason, error));
        seq.Request.Writer.TryComplete();
        Volatile.Write(ref _activeCount, _active.Count);
        Volatile.Write(ref _kvCellsUsed, CachedTokens());
    }

    /// <summary>Tokens held by all slots (a loop: this runs after every step).</summary>
    private int CachedTokens()
    {
        var total = 0;
        foreach (var slot in _slots)
        {
            total += slot.Tokens.Count;
        }

        return total;
    }

    private void FreeSlot(Slot slot)
    {
        _runner.TruncateSequence(slot.Id, 0);
        slot.Tokens.Clear();
    }

    private void FailBatch(EngineException error)
    {
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            if (_active[i].FedCount > 0)
            {
                Finish(i, FinishReason.Error, error);
            }
        }
    }

    private void CancelEverything()
    {
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            Finish(i, FinishReason.Cancelled);
        }

        while (_admission.TryDequeue(out var request))
        {
            Interlocked.Decrement(ref _queued);
            request.ReleaseConstraint();
            request.Writer.TryWrite(SequenceEvent.Finished(FinishReason.Cancelled));
            request.Writer.TryComplete();
        }
    }

    [LoggerMessage(EventId = EngineEventIds.DecodeFailed, Level = LogLevel.Error, Message = "Decode failed on model {Model} for a batch of {Tokens} tokens; its sequences were dropped")]
    private static partial void LogDecodeFailed(ILogger logger, Exception exception, string model, int tokens);

    [LoggerMessage(EventId = EngineEventIds.GrammarFailed, Level = LogLevel.Warning, Message = "Grammar constraint failed on model {Model}; the sequence was ended with an error")]
    private static partial void LogConstraintFailed(ILogger logger, Exception exception, string model);
}
