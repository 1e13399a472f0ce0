using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Observability;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;
using SovereignInference.Gguf;

namespace SovereignInference.Engine.Hosting;

/// <summary>
/// The one engine call every transport adapts: <see cref="GenerateAsync"/> yields deltas for a request.
/// Owns the configured models, validates and loads them, and runs one scheduler per model.
/// </summary>
public sealed partial class InferenceEngine : IAsyncDisposable
{
    private readonly EngineOptions _options;
    private readonly IModelBackend _backend;
    private readonly ILogger _logger;
    private volatile bool _loadingComplete;
    private volatile bool _draining;

    /// <param name="workerLaunch">How to start `sovereign worker` for <c>--isolation process</c>; null: models run in process.</param>
    public InferenceEngine(EngineOptions options, IModelBackend backend, ILoggerFactory loggerFactory, WorkerLaunch? workerLaunch = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid engine options: " + string.Join("; ", problems), nameof(options));
        }

        _options = options;
        _backend = backend;
        _logger = loggerFactory.CreateLogger<InferenceEngine>();
        Manager = new ModelManager(options, backend, loggerFactory, workerLaunch);
        Manager.Catalog();
        Telemetry = new EngineTelemetry(() => Models, Manager);
        Manager.StepObserved += Telemetry.RecordStep;
        Manager.WorkerStep += Telemetry.RecordStep;
    }

    /// <summary>The model lifecycle (catalog, loads, unloads, eviction, workers).</summary>
    public ModelManager Manager { get; }

    /// <summary>Every catalogued model, failed ones included.</summary>
    public IReadOnlyList<ModelEntry> Models => Manager.Models;

    /// <summary>
    /// The catalog is up (and models to load at start have loaded or failed), at least one model can serve (is not
    /// failed), and the engine is not draining. With load on demand a model that is not loaded yet counts: the first
    /// request loads it.
    /// </summary>
    public bool IsReady => _loadingComplete && !_draining && Models.Any(m => m.State != ModelState.Failed || (!m.Unloadable && m.Instance is null));

    public bool IsLoadingComplete => _loadingComplete;

    public bool IsDraining => _draining;

    /// <summary>Validates and loads every model, one after the other, off the caller's thread (every model stays loaded).</summary>
    public Task LoadAllAsync(CancellationToken cancellationToken = default) => Task.Run(
        async () =>
        {
            LogBackend(_logger, _backend.Description);
            foreach (var entry in Models)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await TryLoadAsync(entry, cancellationToken).ConfigureAwait(false);
            }

            _loadingComplete = true;
        },
        cancellationToken);

    /// <summary>
    /// Load-on-demand start: the catalog is already built; loads pinned models and those named by
    /// <see cref="EngineOptions.Preload"/> ("*" = all), then starts the keep-alive timer and the folder rescans.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => Task.Run(
        async () =>
        {
            LogBackend(_logger, _backend.Description);
            var all = _options.Preload.Contains("*");
            foreach (var id in _options.Preload.Where(p => p != "*" && Manager.Find(p) is null))
            {
                LogPreloadUnknown(_logger, id);
            }

            foreach (var entry in Models.Where(m => all || m.Pinned || _options.Preload.Contains(m.Id)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await TryLoadAsync(entry, cancellationToken).ConfigureAwait(false);
            }

            _loadingComplete = true;
            Manager.StartHousekeeping();
        },
        cancellationToken);

    /// <summary>Finds a loaded model, or throws ModelNotFound / ModelNotReady (see <see cref="GetModelAsync"/> to load on demand).</summary>
    public ModelEntry GetReadyModel(string id)
    {
        var entry = Manager.Find(id);
        if (string.IsNullOrEmpty(id) || entry is null)
        {
            throw new EngineException(EngineErrorCode.ModelNotFound, $"The model '{id}' does not exist", "model");
        }

        if (entry.State != ModelState.Ready)
        {
            throw new EngineException(
                EngineErrorCode.ModelNotReady,
                entry.State == ModelState.Failed ? $"The model '{id}' failed to load: {entry.Error}" : $"The model '{id}' is {entry.Status}",
                "model");
        }

        return entry;
    }

    /// <summary>
    /// A model whose tokenizer and chat template are known, loading it first when it never was (concurrent callers
    /// share the load). Throws ModelNotFound, or ModelNotReady (503) with the reason when the load fails.
    /// </summary>
    public async Task<ModelEntry> GetModelAsync(string? id, CancellationToken cancellationToken = default)
    {
        var entry = Manager.Resolve(id);
        if (entry.Tokenizer is null || entry.State != ModelState.Ready)
        {
            if (entry.Tokenizer is null || entry.State == ModelState.Failed)
            {
                await Manager.EnsureLoadedAsync(entry, cancellationToken).ConfigureAwait(false);
            }
        }

        return entry;
    }

    /// <summary>Admin load (POST /models/load, gRPC LoadModel): loads the model and keeps it for its keep-alive.</summary>
    public async Task<ModelEntry> LoadModelAsync(string id, CancellationToken cancellationToken = default)
    {
        var entry = await Manager.AcquireAsync(id, cancellationToken).ConfigureAwait(false);
        Manager.Release(entry, null);
        return entry;
    }

    /// <summary>Admin unload (POST /models/unload, gRPC UnloadModel): ends its worker now when idle, else when its requests end.</summary>
    public ModelEntry UnloadModel(string id)
    {
        var entry = Manager.Resolve(id);
        Manager.RequestUnload(entry);
        return entry;
    }

    /// <summary>Stops accepting new requests (readiness turns false); in-flight ones go on.</summary>
    public void BeginDrain() => _draining = true;

    /// <summary>Sequences active across all models.</summary>
    public int ActiveSequences => Models.Sum(m => m.Instance?.ActiveSequences ?? 0);

    private async Task TryLoadAsync(ModelEntry entry, CancellationToken cancellationToken)
    {
        if (entry.State == ModelState.Failed && entry.Unloadable)
        {
            return;
        }

        try
        {
            await Manager.EnsureLoadedAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException)
        {
            // Recorded on the entry and logged by the manager; the other models load on.
        }
    }

    /// <summary>The engine call itself; <see cref="GenerateAsync"/> wraps it with observation and draining.</summary>
    private async IAsyncEnumerable<GenerationUpdate> GenerateCoreAsync(
        GenerationRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var entry = await Manager.AcquireAsync(request.Model, cancellationToken).ConfigureAwait(false);
        TimeSpan? keepAlive = null;
        SequenceRequest sequence;
        try
        {
            keepAlive = ParseKeepAlive(request.KeepAlive);
            sequence = Admit(request, entry);
        }
        catch
        {
            Manager.Release(entry, keepAlive);
            throw;
        }

        var tokenizer = entry.Tokenizer!;
        var assembler = new TextAssembler(request.Stop);
        var controlText = request.ControlText?.ToDictionary(p => p.Key, p => System.Text.Encoding.UTF8.GetBytes(p.Value));
        var done = false;
        var completionTokens = 0;
        await using var registration = cancellationToken.Register(static s => ((SequenceRequest)s!).Cancel(), sequence);
        try
        {
            await foreach (var ev in sequence.Events.ReadAllAsync(CancellationToken.None))
            {
                if (!ev.IsFinal)
                {
                    completionTokens++;
                    var text = assembler.Push(controlText is not null && controlText.TryGetValue(ev.Token.Token, out var name) ? name : tokenizer.GetPieceBytes(ev.Token.Token));
                    if (assembler.Stopped)
                    {
                        // The stop string is found after the engine: abort the sequence, keep its cache.
                        sequence.Cancel(keepCache: true);
                        done = true;
                        yield return Final(sequence, FinishReason.Stop, text, [ev.Token], completionTokens, assembler.MatchedStop);
                        yield break;
                    }

                    yield return new GenerationUpdate { Text = text, Tokens = [ev.Token] };
                    continue;
                }

                done = true;
                if (ev.Finish == FinishReason.Cancelled)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down; generation was cancelled");
                }

                if (ev.Error is not null)
                {
                    throw ev.Error;
                }

                var tail = assembler.Flush();
                yield return Final(sequence, ev.Finish!.Value, tail, [], completionTokens, assembler.MatchedStop);
                yield break;
            }
        }
        finally
        {
            if (!done)
            {
                sequence.Cancel();
            }

            Manager.Release(entry, keepAlive);
        }
    }

    /// <summary>A request's keep_alive: null = the model's; <see cref="Timeout.InfiniteTimeSpan"/> = keep loaded.</summary>
    private static TimeSpan? ParseKeepAlive(string? text)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return KeepAlive.Parse(text, "keep_alive") ?? Timeout.InfiniteTimeSpan;
        }
        catch (ArgumentException ex)
        {
            throw EngineException.Invalid("keep_alive", ex.Message);
        }
    }

    /// <summary>
    /// Embeds every input with <paramref name="request"/>'s model (one configured in
    /// <see cref="EngineOptions.Embeddings"/>) and returns L2-normalized vectors in input order. Inputs are
    /// validated before any native call: InvalidArgument (param <c>input</c>) for no inputs, an empty input or a
    /// token id outside the vocabulary; PromptTooLong (param <c>input</c>) for an input longer than the
    /// embedding context; InvalidArgument (param <c>model</c>) for a model not configured for embeddings.
    /// </summary>
    public async Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_draining)
        {
            throw new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down and accepts no new requests");
        }

        var known = Manager.Resolve(request.Model);
        if (!known.SupportsEmbeddings)
        {
            throw EngineException.Invalid(
                "model",
                $"The model '{known.Id}' is not configured for embeddings; list it in the server's embedding models (config Sovereign:Embeddings:0={known.Id})");
        }

        var entry = await Manager.AcquireAsync(request.Model, cancellationToken).ConfigureAwait(false);
        try
        {
            var instance = entry.Instance ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{entry.Id}' was unloaded", "model");
            var inputs = TokenizeEmbeddingInputs(request, entry.Tokenizer!, instance.EmbeddingMaxTokens);
            var vectors = await instance.EmbedAsync(inputs, cancellationToken).ConfigureAwait(false);
            var result = new EmbeddingResult(vectors, inputs.Sum(i => i.Length));
            PublishEmbedding(request, result.PromptTokens);
            return result;
        }
        finally
        {
            Manager.Release(entry, null);
        }
    }

    /// <summary>Embeds texts; see <see cref="EmbedAsync(EmbeddingRequest, CancellationToken)"/>.</summary>
    public Task<EmbeddingResult> EmbedAsync(string model, IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        EmbedAsync(new EmbeddingRequest { Model = model, Texts = texts }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _draining = true;
        Manager.Dispose();
        Telemetry.Dispose();
        _shutdown.Dispose();

        await Task.CompletedTask;
    }

    private static GenerationUpdate Final(SequenceRequest sequence, FinishReason reason, string text, IReadOnlyList<GeneratedToken> tokens, int completionTokens, string? matchedStop)
    {
        var now = Stopwatch.GetTimestamp();
        var first = sequence.FirstTokenAt == 0 ? now : sequence.FirstTokenAt;
        var started = sequence.StartedAt == 0 ? now : sequence.StartedAt;
        return new GenerationUpdate
        {
            Text = text,
            Tokens = tokens,
            Finish = reason,
            MatchedStop = matchedStop,
            Usage = new UsageInfo(sequence.PromptTokens.Length, completionTokens, sequence.CachedPromptTokens),
            Timings = new GenerationTimings(
                Stopwatch.GetElapsedTime(sequence.EnqueuedAt, started),
                Stopwatch.GetElapsedTime(sequence.EnqueuedAt, first),
                Stopwatch.GetElapsedTime(first, now)),
        };
    }

    /// <summary>Everything that can be wrong with a request is found here, before native code sees it.</summary>
    private SequenceRequest Admit(GenerationRequest request, ModelEntry entry)
    {
        if (_draining)
        {
            throw new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down and accepts no new requests");
        }

        var tokenizer = entry.Tokenizer!;
        var instance = entry.Instance ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{entry.Id}' was unloaded", "model");
        var vocab = tokenizer.VocabSize;

        try
        {
            request.Sampling.Validate(vocab);
            StopMatcher.Validate(request.Stop);
        }
        catch (ArgumentException ex)
        {
            throw new EngineException(EngineErrorCode.InvalidArgument, ex.Message, ex.ParamName);
        }

        var prompt = TokenizePrompt(request, tokenizer);
        var context = instance.SequenceContextSize;
        if (prompt.Length >= context)
        {
            throw new EngineException(
                EngineErrorCode.PromptTooLong,
                $"The prompt has {prompt.Length} tokens but a sequence of model '{entry.Id}' holds {context} tokens, including at least one generated token",
                "prompt");
        }

        int maxNew;
        if (request.MaxTokens is { } max)
        {
            if (max < 1)
            {
                throw EngineException.Invalid("max_tokens", $"max_tokens must be at least 1 (got {max})");
            }

            if (max > context)
            {
                throw EngineException.Invalid("max_tokens", $"max_tokens is {max} but the context of model '{entry.Id}' holds {context} tokens");
            }

            maxNew = max;
        }
        else
        {
            maxNew = context - prompt.Length;
        }

        if (request.Grammar is { } grammar)
        {
            GbnfValidator.Validate(grammar);
        }

        var sampler = new TokenSampler(request.Sampling, vocab, prompt);
        return instance.Start(request, prompt, maxNew, sampler);
    }

    private static int[][] TokenizeEmbeddingInputs(EmbeddingRequest request, ITokenizer tokenizer, int maxTokens)
    {
        if ((request.Texts is null) == (request.TokenInputs is null))
        {
            throw EngineException.Invalid("input", "Give the input either as text or as token ids (exactly one of them)");
        }

        var count = request.Texts?.Count ?? request.TokenInputs!.Count;
        if (count == 0)
        {
            throw EngineException.Invalid("input", "The input is empty; give at least one text or token list");
        }

        if (count > EmbeddingRequest.MaxInputs)
        {
            throw EngineException.Invalid("input", $"The input has {count} items; at most {EmbeddingRequest.MaxInputs} are accepted");
        }

        var result = new int[count][];
        for (var n = 0; n < count; n++)
        {
            int[] tokens;
            if (request.Texts is { } texts)
            {
                var text = texts[n];
                if (string.IsNullOrEmpty(text))
                {
                    throw EngineException.Invalid("input", $"Input {n} is an empty string");
                }

                InputChecks.RejectNul(text, "input", $"Input {n}");

                tokens = tokenizer.Tokenize(text, tokenizer.AddBosByDefault, parseSpecial: false);
            }
            else
            {
                var ids = request.TokenInputs![n] ?? throw EngineException.Invalid("input", $"Input {n} is null");
                tokens = new int[ids.Count];
                for (var i = 0; i < ids.Count; i++)
                {
                    InputChecks.RejectOutsideVocabulary(ids[i], tokenizer.VocabSize, "input", $"Token id {ids[i]} at index {i} of input {n}");

                    tokens[i] = ids[i];
                }
            }

            if (tokens.Length == 0)
            {
                throw EngineException.Invalid("input", $"Input {n} has no tokens");
            }

            if (tokens.Length > maxTokens)
            {
                throw new EngineException(
                    EngineErrorCode.PromptTooLong,
                    $"Input {n} has {tokens.Length} tokens but the embedding context holds {maxTokens}",
                    "input");
            }

            result[n] = tokens;
        }

        return result;
    }

    private static int[] TokenizePrompt(GenerationRequest request, ITokenizer tokenizer)
    {
        if ((request.Prompt is null) == (request.PromptTokens is null))
        {
            throw EngineException.Invalid("prompt", "Give the prompt either as text or as token ids (exactly one of them)");
        }

        int[] tokens;
        if (request.PromptTokens is { } ids)
        {
            tokens = new int[ids.Count];
            for (var i = 0; i < ids.Count; i++)
            {
                InputChecks.RejectOutsideVocabulary(ids[i], tokenizer.VocabSize, "prompt", $"Token id {ids[i]} at index {i}");

                tokens[i] = ids[i];
            }
        }
        else
        {
            InputChecks.RejectNul(request.Prompt, "prompt", "The prompt");

            tokens = tokenizer.Tokenize(request.Prompt!, request.AddBos ?? tokenizer.AddBosByDefault, request.ParseSpecialTokens);
        }

        if (tokens.Length == 0)
        {
            throw EngineException.Invalid("prompt", "The prompt is empty");
        }

        return tokens;
    }

    [LoggerMessage(EventId = EngineEventIds.Backend, Level = LogLevel.Information, Message = "Backend: {Description}")]
    private static partial void LogBackend(ILogger logger, string description);

    [LoggerMessage(EventId = EngineEventIds.PreloadUnknown, Level = LogLevel.Warning, Message = "--preload {Model} names no catalogued model")]
    private static partial void LogPreloadUnknown(ILogger logger, string model);
}
