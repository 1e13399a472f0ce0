using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Observability;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Hosting;

/// <summary>
/// The engine as the transports see it: a facade that composes the stages and delegates to them. Models/
/// (<see cref="ModelManager"/>, lookup, start), Admission/ (drain gate, request checks), the scheduler behind each
/// model instance, Output/ (text and chat assembly) and the observer. <see cref="GenerateAsync"/> and
/// <see cref="ChatAsync"/> are the engine calls every transport adapts.
/// </summary>
public sealed class InferenceEngine : IAsyncDisposable
{
    /// <summary>Most characters one tokenize call takes.</summary>
    public const int MaxTokenizeChars = Tokenization.MaxChars;

    private readonly DrainGate _gate;
    private readonly ModelLookup _lookup;
    private readonly ModelStartup _startup;
    private readonly GenerationObserver _observer;
    private readonly GenerationPipeline _generation;
    private readonly ChatPipeline _chat;
    private readonly EmbeddingPipeline _embedding;
    private readonly Tokenization _tokenization;

    /// <param name="workerLaunch">How to start `sovereign worker` for <c>--isolation process</c>; null: models run in process.</param>
    public InferenceEngine(EngineOptions options, IModelBackend backend, ILoggerFactory loggerFactory, WorkerLaunch? workerLaunch = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        var logger = loggerFactory.CreateLogger<InferenceEngine>();
        Manager = new ModelManager(options, backend, loggerFactory, workerLaunch);
        Manager.Catalog();
        Telemetry = new EngineTelemetry(() => Models, Manager);
        Manager.StepObserved += Telemetry.RecordStep;
        Manager.WorkerStep += Telemetry.RecordStep;
        _gate = new DrainGate(logger);
        _lookup = new ModelLookup(Manager);
        _startup = new ModelStartup(options, Manager, backend, logger);
        _observer = new GenerationObserver(Telemetry, Manager, _gate, logger);
        _generation = new GenerationPipeline(Manager, _gate);
        _chat = new ChatPipeline(_lookup, GenerateAsync);
        _embedding = new EmbeddingPipeline(Manager, _gate, _observer);
        _tokenization = new Tokenization(_lookup);
    }

    /// <summary>Raised once per engine call when it ends, on the caller's thread. Keep handlers cheap.</summary>
    public event Action<GenerationRecord>? GenerationCompleted { add => _observer.GenerationCompleted += value; remove => _observer.GenerationCompleted -= value; }

    /// <summary>Raised after every successful embedding call with its request and the tokens it embedded (per-key token budgets).</summary>
    public event Action<EmbeddingRequest, int>? EmbeddingCompleted { add => _observer.EmbeddingCompleted += value; remove => _observer.EmbeddingCompleted -= value; }

    /// <summary>The model lifecycle (catalog, loads, unloads, eviction, workers).</summary>
    public ModelManager Manager { get; }

    /// <summary>The engine's meter and instruments.</summary>
    public EngineTelemetry Telemetry { get; }

    /// <summary>Every catalogued model, failed ones included.</summary>
    public IReadOnlyList<ModelEntry> Models => Manager.Models;

    /// <summary>
    /// The catalog is up (and models to load at start have loaded or failed), at least one model can serve, and the
    /// engine is not draining. With load on demand a model that is not loaded yet counts: the first request loads it.
    /// </summary>
    public bool IsReady => _startup.IsComplete && !_gate.IsDraining && _startup.CanServe;

    public bool IsLoadingComplete => _startup.IsComplete;

    public bool IsDraining => _gate.IsDraining;

    /// <summary>Engine calls that have started and not yet ended.</summary>
    public int InFlight => _gate.InFlight;

    /// <summary>Sequences active across all models.</summary>
    public int ActiveSequences => _lookup.ActiveSequences;

    /// <summary>Keep the generated text for <see cref="GenerationRecord.CompletionText"/> (audit with text).</summary>
    public bool CaptureCompletionText { get => _observer.CaptureCompletionText; set => _observer.CaptureCompletionText = value; }

    /// <inheritdoc cref="ModelStartup.LoadAllAsync"/>
    public Task LoadAllAsync(CancellationToken cancellationToken = default) => _startup.LoadAllAsync(cancellationToken);

    /// <inheritdoc cref="ModelStartup.StartAsync"/>
    public Task StartAsync(CancellationToken cancellationToken = default) => _startup.StartAsync(cancellationToken);

    /// <inheritdoc cref="ModelLookup.GetReadyModel"/>
    public ModelEntry GetReadyModel(string id) => _lookup.GetReadyModel(id);

    /// <inheritdoc cref="ModelLookup.GetModelAsync"/>
    public Task<ModelEntry> GetModelAsync(string? id, CancellationToken cancellationToken = default) => _lookup.GetModelAsync(id, cancellationToken);

    /// <inheritdoc cref="ModelLookup.GetReadyModelOrFirst"/>
    public ModelEntry GetReadyModelOrFirst(string? id) => _lookup.GetReadyModelOrFirst(id);

    /// <inheritdoc cref="ModelLookup.LoadAsync"/>
    public Task<ModelEntry> LoadModelAsync(string id, CancellationToken cancellationToken = default) => _lookup.LoadAsync(id, cancellationToken);

    /// <inheritdoc cref="ModelLookup.Unload"/>
    public ModelEntry UnloadModel(string id) => _lookup.Unload(id);

    /// <summary>
    /// Runs one generation and streams its deltas (<see cref="GenerationPipeline"/>, observed). Validation, tokenization
    /// and admission happen before the first element is produced, so a bad request throws <see cref="Errors.EngineException"/>
    /// from the first MoveNextAsync. Cancelling <paramref name="cancellationToken"/> removes the sequence from the batch
    /// within one step and ends the enumeration with <see cref="OperationCanceledException"/>. A call cut by the end of
    /// a drain ends with <see cref="Errors.EngineErrorCode.ShuttingDown"/>.
    /// </summary>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
        _observer.ObserveAsync(request, _generation.RunAsync, cancellationToken);

    /// <summary>
    /// Generates one assistant reply to a conversation and streams it as chat deltas (<see cref="ChatPipeline"/>): the
    /// prompt rendered with the model's chat template and tools, one <see cref="GenerateAsync"/> call, its updates
    /// read back as text, thinking and tool calls; one delta per update, the last with <see cref="ChatDelta.End"/>.
    /// Errors and cancellation as <see cref="GenerateAsync"/>, template errors (InvalidArgument) included.
    /// </summary>
    public IAsyncEnumerable<ChatDelta> ChatAsync(ChatGenerationRequest request, CancellationToken cancellationToken = default) =>
        _chat.RunAsync(request, cancellationToken);

    /// <summary>Embeds every input, L2-normalized, in input order (<see cref="EmbeddingPipeline"/>; checks in <see cref="EmbeddingAdmission"/>).</summary>
    public Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default) => _embedding.RunAsync(request, cancellationToken);

    /// <summary>Embeds texts; see <see cref="EmbedAsync(EmbeddingRequest, CancellationToken)"/>.</summary>
    public Task<EmbeddingResult> EmbedAsync(string model, IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        EmbedAsync(new EmbeddingRequest { Model = model, Texts = texts }, cancellationToken);

    /// <inheritdoc cref="Tokenization.Tokenize"/>
    public TokenizedText Tokenize(string? model, string text, bool? addSpecial, bool parseSpecial, bool withPieces, string param) =>
        _tokenization.Tokenize(model, text, addSpecial, parseSpecial, withPieces, param);

    /// <inheritdoc cref="Tokenization.Detokenize"/>
    public string Detokenize(string? model, IReadOnlyList<long> ids, string param) => _tokenization.Detokenize(model, ids, param);

    /// <summary>Stops accepting new requests (readiness turns false); in-flight ones go on.</summary>
    public void BeginDrain() => _gate.BeginDrain();

    /// <inheritdoc cref="DrainGate.DrainAsync"/>
    public Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => _gate.DrainAsync(timeout, cancellationToken);

    public ValueTask DisposeAsync()
    {
        _gate.BeginDrain();
        Manager.Dispose();
        Telemetry.Dispose();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }
}
