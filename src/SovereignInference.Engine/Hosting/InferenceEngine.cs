using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Observability;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;
using SovereignInference.Engine.Streaming;
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
    private readonly ILoggerFactory _loggerFactory;
    private readonly Dictionary<string, ModelEntry> _byId;
    private volatile bool _loadingComplete;
    private volatile bool _draining;

    public InferenceEngine(EngineOptions options, IModelBackend backend, ILoggerFactory loggerFactory)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid engine options: " + string.Join("; ", problems), nameof(options));
        }

        _options = options;
        _backend = backend;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<InferenceEngine>();
        Models = ModelCatalog.Discover(options);
        _byId = Models.Where(m => m.State != ModelState.Failed).ToDictionary(m => m.Id, StringComparer.Ordinal);
        Telemetry = new EngineTelemetry(() => Models);
    }

    /// <summary>Every configured model, in load order, including failed ones.</summary>
    public IReadOnlyList<ModelEntry> Models { get; }

    /// <summary>Loading has finished and at least one model serves, and the engine is not draining.</summary>
    public bool IsReady => _loadingComplete && !_draining && Models.Any(m => m.State == ModelState.Ready);

    public bool IsLoadingComplete => _loadingComplete;

    public bool IsDraining => _draining;

    /// <summary>Validates and loads every model, one after the other, off the caller's thread.</summary>
    public Task LoadAllAsync(CancellationToken cancellationToken = default) => Task.Run(
        () =>
        {
            LogBackend(_logger, _backend.Description);
            foreach (var entry in Models)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (entry.State == ModelState.Failed)
                {
                    LogModelFailed(_logger, entry.Id, entry.Error ?? "unknown");
                    continue;
                }

                LoadOne(entry);
            }

            _loadingComplete = true;
        },
        cancellationToken);

    /// <summary>Finds a model that serves, or throws ModelNotFound / ModelNotReady.</summary>
    public ModelEntry GetReadyModel(string id)
    {
        if (string.IsNullOrEmpty(id) || !_byId.TryGetValue(id, out var entry))
        {
            throw new EngineException(EngineErrorCode.ModelNotFound, $"The model '{id}' does not exist", "model");
        }

        if (entry.State != ModelState.Ready)
        {
            throw new EngineException(
                EngineErrorCode.ModelNotReady,
                entry.State == ModelState.Failed ? $"The model '{id}' failed to load: {entry.Error}" : $"The model '{id}' is still loading",
                "model");
        }

        return entry;
    }

    /// <summary>Stops accepting new requests (readiness turns false); in-flight ones go on.</summary>
    public void BeginDrain() => _draining = true;

    /// <summary>Sequences active across all models.</summary>
    public int ActiveSequences => Models.Sum(m => m.Scheduler?.ActiveSequences ?? 0);

    /// <summary>The engine call itself; <see cref="GenerateAsync"/> wraps it with observation and draining.</summary>
    private async IAsyncEnumerable<GenerationUpdate> GenerateCoreAsync(
        GenerationRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var sequence = Admit(request, out var entry);
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

        var entry = GetReadyModel(request.Model);
        var worker = entry.Embedder ?? throw EngineException.Invalid(
            "model",
            $"The model '{entry.Id}' is not configured for embeddings; list it in the server's embedding models (config Sovereign:Embeddings:0={entry.Id})");
        var inputs = TokenizeEmbeddingInputs(request, entry.Tokenizer!, worker.MaxTokens);
        var vectors = await worker.EmbedAsync(inputs, cancellationToken).ConfigureAwait(false);
        var result = new EmbeddingResult(vectors, inputs.Sum(i => i.Length));
        PublishEmbedding(request, result.PromptTokens);
        return result;
    }

    /// <summary>Embeds texts; see <see cref="EmbedAsync(EmbeddingRequest, CancellationToken)"/>.</summary>
    public Task<EmbeddingResult> EmbedAsync(string model, IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        EmbedAsync(new EmbeddingRequest { Model = model, Texts = texts }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _draining = true;
        foreach (var entry in Models)
        {
            entry.Scheduler?.Dispose();
            entry.Embedder?.Dispose();
            entry.Loaded?.Dispose();
        }

        Telemetry.Dispose();
        _shutdown.Dispose();

        await Task.CompletedTask;
    }

    private int UserWeight(string user) => _options.UserPriorities.TryGetValue(user, out var weight) ? weight : 1;

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
    private SequenceRequest Admit(GenerationRequest request, out ModelEntry entry)
    {
        if (_draining)
        {
            throw new EngineException(EngineErrorCode.ShuttingDown, "the server is shutting down and accepts no new requests");
        }

        entry = GetReadyModel(request.Model);
        var tokenizer = entry.Tokenizer!;
        var scheduler = entry.Scheduler!;
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
        var context = scheduler.SequenceContextSize;
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

        var sampler = new TokenSampler(request.Sampling, vocab, prompt);
        var constraint = CreateConstraint(request, entry);
        var sequence = new SequenceRequest(request, prompt, maxNew, sampler, constraint);
        try
        {
            scheduler.Enqueue(sequence);
        }
        catch
        {
            sequence.ReleaseConstraint();
            throw;
        }

        return sequence;
    }

    /// <summary>Validates the request's grammar in managed code, then builds the model's constraint for it.</summary>
    private static ITokenConstraint? CreateConstraint(GenerationRequest request, ModelEntry entry)
    {
        if (request.Grammar is not { } grammar)
        {
            return null;
        }

        GbnfValidator.Validate(grammar);
        var factory = entry.Loaded?.Constraints
            ?? throw EngineException.Invalid("response_format", $"The model '{entry.Id}' does not support structured output (response_format)");
        var constraint = new ValidUtf8Constraint(factory.Create(grammar), entry.Tokenizer!);
        return grammar.TriggerToken is { } trigger ? new LazyConstraint(trigger, constraint) : constraint;
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

                if (text.Contains('\0', StringComparison.Ordinal))
                {
                    throw EngineException.Invalid("input", $"Input {n} contains a NUL character");
                }

                tokens = tokenizer.Tokenize(text, tokenizer.AddBosByDefault, parseSpecial: false);
            }
            else
            {
                var ids = request.TokenInputs![n] ?? throw EngineException.Invalid("input", $"Input {n} is null");
                tokens = new int[ids.Count];
                for (var i = 0; i < ids.Count; i++)
                {
                    if ((uint)ids[i] >= (uint)tokenizer.VocabSize)
                    {
                        throw EngineException.Invalid("input", $"Token id {ids[i]} at index {i} of input {n} is outside the vocabulary (0..{tokenizer.VocabSize - 1})");
                    }

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
                if ((uint)ids[i] >= (uint)tokenizer.VocabSize)
                {
                    throw EngineException.Invalid("prompt", $"Token id {ids[i]} at index {i} is outside the vocabulary (0..{tokenizer.VocabSize - 1})");
                }

                tokens[i] = ids[i];
            }
        }
        else
        {
            if (request.Prompt!.Contains('\0', StringComparison.Ordinal))
            {
                throw EngineException.Invalid("prompt", "The prompt contains a NUL character");
            }

            tokens = tokenizer.Tokenize(request.Prompt!, request.AddBos ?? tokenizer.AddBosByDefault, request.ParseSpecialTokens);
        }

        if (tokens.Length == 0)
        {
            throw EngineException.Invalid("prompt", "The prompt is empty");
        }

        return tokens;
    }

    private void LoadOne(ModelEntry entry)
    {
        entry.State = ModelState.Loading;
        try
        {
            var file = GgufReader.ReadModel(entry.Path);
            var info = GgufModelInfo.From(file, entry.Path, computeSha256: true);
            entry.Info = info;

            var context = _options.CtxSize > 0 ? _options.CtxSize : (int)Math.Clamp(info.ContextLength ?? 4096, 1, 8192);
            var offload = _options.GpuLayers != 0;
            var embeddings = _options.Embeddings.Contains(entry.Id, StringComparer.Ordinal);
            var plan = new MemoryPlan(
                info.WeightBytes,
                info.KvCacheBytesPerToken(_options.KvType) * context,
                _options.Parallel,
                context,
                _options.KvType,
                _backend.AvailableMemoryBytes(offload),
                embeddings ? info.KvCacheBytesPerToken("f16") * context : 0);
            entry.Plan = plan;
            LogPlan(_logger, entry.Id, plan);
            if (!plan.Fits)
            {
                throw new InvalidOperationException($"the memory plan does not fit: {plan}. Lower --ctx-size or --parallel, or use --kv-type q8_0");
            }

            var loaded = _backend.Load(new ModelLoadSpec(
                entry.Path,
                context,
                _options.Parallel,
                _options.BatchSize,
                _options.GpuLayers,
                _options.FlashAttn,
                _options.KvType,
                _options.Threads)
            {
                Embeddings = embeddings,
            });
            entry.Loaded = loaded;
            entry.Tokenizer = loaded.Tokenizer;
            entry.ChatTemplate = ChooseChatTemplate(entry, info, loaded.Tokenizer);
            entry.Scheduler = new ModelScheduler(
                entry.Id,
                loaded.Runner,
                loaded.Tokenizer,
                new SchedulerOptions { QueueCapacity = _options.QueueCapacity, PrefillChunkTokens = _options.PrefillChunk, MaxStepFactor = _options.MaxStepFactor, UserWeight = UserWeight },
                _loggerFactory.CreateLogger<ModelScheduler>());
            if (loaded.Embeddings is { } embeddingRunner)
            {
                entry.Embedder = new EmbeddingWorker(entry.Id, embeddingRunner, _options.QueueCapacity, _loggerFactory.CreateLogger<EmbeddingWorker>());
            }

            entry.Scheduler.StepCompleted += step => Telemetry.RecordStep(entry.Id, step);
            entry.LoadedAtUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            entry.State = ModelState.Ready;
            LogModelReady(_logger, entry.Id, entry.Path, info.Architecture, info.ParameterCount);
        }
#pragma warning disable CA1031 // one bad model must not stop the others; the reason is recorded and logged
        catch (Exception ex)
#pragma warning restore CA1031
        {
            entry.State = ModelState.Failed;
            entry.Error = ex.Message.Contains(entry.Path, StringComparison.Ordinal) ? ex.Message : $"{entry.Path}: {ex.Message}";
            LogModelFailed(_logger, entry.Id, entry.Error);
        }
    }

    /// <summary>
    /// Decides how the model renders chat (--chat-template, else the GGUF's template) and warns once at load when
    /// it cannot: chat requests then get a 400 naming the cause and the fix; /v1/completions is unaffected.
    /// </summary>
    private ChatTemplateChoice ChooseChatTemplate(ModelEntry entry, GgufModelInfo info, ITokenizer tokenizer)
    {
        var choice = ChatTemplates.Choose(_options.ChatTemplateFor(entry.Id), info.ChatTemplate, info.VocabType, name =>
        {
            var ids = tokenizer.Tokenize(name, addBos: false, parseSpecial: true);
            return ids.Length == 1 && tokenizer.GetPieceBytes(ids[0]).IsEmpty;
        });
        if (choice.Custom is { } custom
            && (tokenizer as IChatTemplateApplier)?.ApplyChatTemplate([("user", "hi")], custom) is null)
        {
            choice = ChatTemplates.Unknown(choice);
        }

        if (choice.Problem is not null)
        {
            LogNoChatTemplate(_logger, entry.Id, ChatTemplates.NoChatMessage(entry.Id, choice));
        }
        else if (choice.Inferred)
        {
            LogInferredChatTemplate(_logger, entry.Id, choice.Describe());
        }

        return choice;
    }

    [LoggerMessage(EventId = EngineEventIds.ChatTemplateInferred, Level = LogLevel.Warning, Message = "Model {Model} has no chat template; its control tokens say {Format}, which chat uses. Confirm with --chat-template {Model}=NAME|FILE")]
    private static partial void LogInferredChatTemplate(ILogger logger, string model, string format);

    [LoggerMessage(EventId = EngineEventIds.ChatDisabled, Level = LogLevel.Warning, Message = "Chat disabled for model {Model}: {Reason}")]
    private static partial void LogNoChatTemplate(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = EngineEventIds.Backend, Level = LogLevel.Information, Message = "Backend: {Description}")]
    private static partial void LogBackend(ILogger logger, string description);

    [LoggerMessage(EventId = EngineEventIds.MemoryPlan, Level = LogLevel.Information, Message = "Memory plan for {Model}: {Plan}")]
    private static partial void LogPlan(ILogger logger, string model, MemoryPlan plan);

    [LoggerMessage(EventId = EngineEventIds.ModelReady, Level = LogLevel.Information, Message = "Model {Model} ready from {Path} ({Architecture}, {Parameters} parameters)")]
    private static partial void LogModelReady(ILogger logger, string model, string path, string architecture, long parameters);

    [LoggerMessage(EventId = EngineEventIds.ModelSkipped, Level = LogLevel.Error, Message = "Model {Model} skipped: {Reason}")]
    private static partial void LogModelFailed(ILogger logger, string model, string reason);
}
