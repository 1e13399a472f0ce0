using System.Diagnostics;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Observability;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Engine.Models;

/// <summary>
/// The model lifecycle: a catalog of every GGUF (validated, with a memory estimate, nothing loaded), loads on demand
/// shared by concurrent requests, a worker process (or in-process instance) per loaded model, unloading after the
/// keep-alive, LRU eviction within the memory budget, and crash containment (see docs/operations.md, "Model lifecycle").
/// </summary>
public sealed partial class ModelManager : IDisposable
{
    /// <summary>A model whose load or worker failed this many times within <see cref="CrashWindow"/> stays failed.</summary>
    public const int MaxCrashes = 3;

    public static readonly TimeSpan CrashWindow = TimeSpan.FromMinutes(1);

    private readonly EngineOptions _options;
    private readonly IModelBackend _backend;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly WorkerLaunch? _launch;
    private readonly Lock _catalogLock = new();
    private readonly Lock _budgetLock = new();
    private readonly CancellationTokenSource _stop = new();
    private volatile ModelEntry[] _models = [];
    private volatile Dictionary<string, ModelEntry> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _reserved = new(StringComparer.Ordinal);
    private Task? _housekeeping;

    internal ModelManager(EngineOptions options, IModelBackend backend, ILoggerFactory loggerFactory, WorkerLaunch? launch)
    {
        _options = options;
        _backend = backend;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ModelManager>();
        _launch = launch;
        var free = FreeMemory.Of(backend);
        MemoryDevices = MemoryBudget.Resolve(options.MemoryBudget, free.Ram, free.Gpus);
        var budgets = string.Join("; ", MemoryDevices.Select(d => $"{d.Id} ({d.Name}) {MemoryPlan.Format(d.Budget)} of {MemoryPlan.Format(d.FreeAtStart)} free at start"));
        LogBudgets(_logger, budgets);
        DefaultKeepAlive = KeepAlive.Parse(options.KeepAlive, "keep-alive");
    }

    /// <summary>Raised after every state change of a model (loading, loaded, unloaded, failed, added, removed).</summary>
    public event Action<ModelEntry>? StateChanged;

    /// <summary>Raised for each scheduler step of a model served by a worker (in-process schedulers report themselves).</summary>
    internal event Action<string, StepRecord>? WorkerStep;

    /// <summary>Every catalogued model, in catalog order, failed ones included.</summary>
    public IReadOnlyList<ModelEntry> Models => _models;

    /// <summary>
    /// The memory accounts, RAM first and then each GPU: what each had free at start and the budget loaded models may
    /// occupy on it together (<c>--memory-budget</c>).
    /// </summary>
    public IReadOnlyList<MemoryDevice> MemoryDevices { get; }

    /// <summary>The budget of <paramref name="device"/> ("ram", "gpu0", …); 0 for a device the backend did not report.</summary>
    public long BudgetOf(string device) => MemoryDevices.FirstOrDefault(d => d.Id == device)?.Budget ?? 0;

    /// <summary>The shares on <paramref name="device"/> of the memory estimates of the models loaded or loading now.</summary>
    public long InUseOn(string device)
    {
        lock (_budgetLock)
        {
            return _reserved.GetValueOrDefault(device);
        }
    }

    /// <summary>Raised after each successful load with its seconds (the load-time histogram).</summary>
    internal event Action<ModelEntry, double>? Loaded;

    /// <summary>The default keep-alive (null = keep loaded).</summary>
    public TimeSpan? DefaultKeepAlive { get; }

    internal bool UsesWorkers => _options.Isolation == "process" && _launch is not null;

    /// <summary>Builds the catalog from the options (no model is loaded).</summary>
    internal void Catalog()
    {
        lock (_catalogLock)
        {
            var free = FreeMemory.Of(_backend);
            var entries = ModelCatalog.Discover(_options).ToList();
            foreach (var entry in entries.Where(e => e.State != ModelState.Failed))
            {
                ModelCatalog.Describe(entry, _options, free);
            }

            Publish(entries);
        }

        foreach (var entry in _models.Where(e => e.State == ModelState.Failed))
        {
            LogModelFailed(_logger, entry.Id, entry.Error ?? "unknown");
        }
    }

    /// <summary>Starts the keep-alive and rescan loop (load-on-demand mode).</summary>
    internal void StartHousekeeping() => _housekeeping ??= Task.Run(() => HousekeepAsync(_stop.Token));

    /// <summary>A model by id or alias, or null.</summary>
    public ModelEntry? Find(string? id) => id is not null && _byId.TryGetValue(id, out var entry) ? entry : null;

    /// <summary>The model for a request: known, not failed for good. Throws ModelNotFound / ModelNotReady.</summary>
    internal ModelEntry Resolve(string? id)
    {
        var entry = Find(id) ?? throw new EngineException(EngineErrorCode.ModelNotFound, $"The model '{id}' does not exist", "model");
        return entry;
    }

    /// <summary>Marks the model in use (it cannot be evicted or unloaded) and makes sure it is loaded.</summary>
    internal async Task<ModelEntry> AcquireAsync(string? id, CancellationToken cancellationToken)
    {
        var entry = Resolve(id);
        Interlocked.Increment(ref entry.ActiveCount);
        try
        {
            await EnsureLoadedAsync(entry, cancellationToken).ConfigureAwait(false);
            return entry;
        }
        catch
        {
            Release(entry, null);
            throw;
        }
    }

    /// <summary>Ends a use of the model; when it is idle, its keep-alive (the request's, else the model's) starts.</summary>
    /// <param name="keepAlive">The request's keep_alive: null = the model's setting; <see cref="Timeout.InfiniteTimeSpan"/> = keep loaded.</param>
    internal void Release(ModelEntry entry, TimeSpan? keepAlive)
    {
        var now = Stopwatch.GetTimestamp();
        entry.LastUsed = now;
        var keep = keepAlive ?? KeepAliveOf(entry);
        entry.ExpiresAt = keep is not { } k || k == Timeout.InfiniteTimeSpan || entry.Pinned ? long.MaxValue : now + (long)(k.TotalSeconds * Stopwatch.Frequency);
        if (Interlocked.Decrement(ref entry.ActiveCount) == 0 && entry.ExpiresAt <= now && _options.LoadOnDemand)
        {
            _ = Task.Run(() => Unload(entry, evicted: false, onlyIfExpired: true));
        }
    }

    /// <summary>Waits for the model to be loaded, starting the load when nobody has (concurrent callers share it).</summary>
    public async Task EnsureLoadedAsync(ModelEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Task load;
        lock (entry.Gate)
        {
            if (entry.State == ModelState.Ready && entry.Instance is not null)
            {
                return;
            }

            if (entry.LoadTask is null)
            {
                if (entry.Unloadable)
                {
                    throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{entry.Id}' failed to load: {entry.Error}", "model");
                }

                if (entry.State == ModelState.Failed && RecentCrashCount(entry) >= MaxCrashes)
                {
                    throw new EngineException(
                        EngineErrorCode.ModelNotReady,
                        $"The model '{entry.Id}' failed {MaxCrashes} times within a minute and stays failed until it is unloaded or its file changes; last failure: {entry.Error}",
                        "model");
                }

                entry.State = ModelState.Loading;
                entry.LoadTask = Task.Run(() => LoadAsync(entry), CancellationToken.None);
                Changed(entry);
            }

            load = entry.LoadTask;
        }

        await load.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Admin unload (llama-server's POST /models/unload): ends the worker now if idle, else once idle; clears a failure.</summary>
    public bool RequestUnload(ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (entry.Gate)
        {
            entry.RecentCrashes.Clear();
            if (entry.State == ModelState.Failed && !entry.Unloadable && entry.Instance is null && entry.LoadTask is null)
            {
                entry.State = ModelState.Pending;
                entry.Error = null;
                Changed(entry);
                return true;
            }

            entry.ExpiresAt = 0;
        }

        return Unload(entry, evicted: false, onlyIfExpired: false);
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var entry in _models)
        {
            var instance = entry.Instance;
            entry.Instance = null;
            instance?.Dispose();
            entry.TokenizerOwner?.Dispose();
        }

        _stop.Dispose();
    }

    private TimeSpan? KeepAliveOf(ModelEntry entry) =>
        entry.Settings.KeepAlive is { } own && KeepAlive.TryParse(own, out var parsed) ? parsed : DefaultKeepAlive;

    private static int RecentCrashCount(ModelEntry entry)
    {
        var cutoff = Stopwatch.GetTimestamp() - (long)(CrashWindow.TotalSeconds * Stopwatch.Frequency);
        while (entry.RecentCrashes.Count > 0 && entry.RecentCrashes.Peek() < cutoff)
        {
            entry.RecentCrashes.Dequeue();
        }

        return entry.RecentCrashes.Count;
    }

    private async Task LoadAsync(ModelEntry entry)
    {
        var started = Stopwatch.GetTimestamp();
        var holding = false;
        var budgetRefusal = false;
        try
        {
            var plan = entry.Plan!;
            LogPlan(_logger, entry.Id, plan);
            var overBudget = plan.DeviceShares.Where(d => d.Bytes > BudgetOf(d.Device)).ToList();
            if (!plan.Fits || overBudget.Count > 0)
            {
                entry.Unloadable = true;
                var budgets = plan.Fits ? "; " + string.Join("; ", overBudget.Select(d => $"the memory budget on {d.Device} is {MemoryPlan.Format(BudgetOf(d.Device))}")) : string.Empty;
                throw new InvalidOperationException($"the memory plan does not fit: {plan}{budgets}. Lower --ctx-size or --parallel, or use --kv-type q8_0");
            }

            try
            {
                Reserve(entry, plan);
                holding = true;
            }
            catch (EngineException)
            {
                budgetRefusal = true;
                throw;
            }

            var settings = entry.Settings;
            var spec = new ModelLoadSpec(entry.Path, plan.SequenceContextSize, plan.Parallel, _options.BatchSize, settings.GpuLayers!.Value, _options.FlashAttn, settings.KvType!, _options.Threads)
            {
                Embeddings = entry.SupportsEmbeddings,
                Mmap = _options.Mmap,
            };
            var vocabulary = entry.Tokenizer is null ? _backend.LoadVocabulary(entry.Path) : null;
            var template = entry.ChatTemplate;
            if (vocabulary is not null)
            {
                template = ChooseTemplateOrFail(entry, vocabulary);
            }

            IModelInstance instance;
            if (UsesWorkers && (vocabulary is not null || entry.Tokenizer is not null))
            {
                var worker = await WorkerModel.StartAsync(
                    _launch!,
                    new WorkerProtocol.WorkerSpec(entry.Id, spec, _options.QueueCapacity, _options.PrefillChunk, _options.MaxStepFactor, _options.UserPriorities, _options.NativeLibDir),
                    _logger,
                    _stop.Token).ConfigureAwait(false);
                worker.StepCompleted += step => WorkerStep?.Invoke(entry.Id, step);
                instance = worker;
            }
            else
            {
                var loaded = _backend.Load(spec);
                instance = new InProcessModel(
                    entry.Id,
                    loaded,
                    new SchedulerOptions { QueueCapacity = _options.QueueCapacity, PrefillChunkTokens = _options.PrefillChunk, MaxStepFactor = _options.MaxStepFactor, UserWeight = UserWeight },
                    _options.QueueCapacity,
                    _loggerFactory);
                if (vocabulary is null && entry.Tokenizer is null)
                {
                    vocabulary = new LoadedVocabulary(loaded.Tokenizer, null);
                    try
                    {
                        template = ChooseTemplateOrFail(entry, vocabulary);
                    }
                    catch
                    {
                        instance.Dispose();
                        throw;
                    }
                }
            }

            if (vocabulary is not null)
            {
                entry.Tokenizer = vocabulary.Tokenizer;
                entry.TokenizerOwner = vocabulary.Owner;
                entry.ChatTemplate = template;
            }

            instance.Scheduler?.StepCompleted += step => StepObserved?.Invoke(entry.Id, step);
            lock (entry.Gate)
            {
                entry.Instance = instance;
                entry.SequenceContextSize = instance.SequenceContextSize;
                entry.LoadedAtUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                entry.Error = null;
                entry.State = ModelState.Ready;
                entry.LastUsed = Stopwatch.GetTimestamp();
                entry.ExpiresAt = long.MaxValue;
                entry.LoadTask = null;
            }

            Interlocked.Increment(ref entry.Counters.LoadsValue);
            entry.Counters.LastLoadSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            Loaded?.Invoke(entry, entry.Counters.LastLoadSeconds);
            _ = instance.Exited.ContinueWith(t => OnExited(entry, instance, t.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            LogModelReady(_logger, entry.Id, entry.Path, entry.Info?.Architecture ?? "?", entry.Info?.ParameterCount ?? 0, instance.Pid ?? 0, entry.Counters.LastLoadSeconds);
            Changed(entry);
        }
        catch (Exception ex)
        {
            if (holding)
            {
                Unreserve(entry.Plan!);
            }

            lock (entry.Gate)
            {
                entry.LoadTask = null;
                if (budgetRefusal)
                {
                    entry.State = entry.Instance is null ? ModelState.Pending : ModelState.Ready;
                }
                else
                {
                    entry.State = ModelState.Failed;
                    entry.Error = ex is EngineException ? ex.Message : ex.Message.Contains(entry.Path, StringComparison.Ordinal) ? ex.Message : $"{entry.Path}: {ex.Message}";
                    entry.RecentCrashes.Enqueue(Stopwatch.GetTimestamp());
                }
            }

            if (!budgetRefusal)
            {
                Interlocked.Increment(ref entry.Counters.CrashesValue);
                LogModelFailed(_logger, entry.Id, entry.Error!);
            }

            Changed(entry);
            throw ex as EngineException ?? new EngineException(EngineErrorCode.ModelNotReady, $"The model '{entry.Id}' failed to load: {entry.Error}", "model");
        }
    }

    /// <summary>Raised for each in-process scheduler step.</summary>
    internal event Action<string, StepRecord>? StepObserved;

    private int UserWeight(string user) => _options.UserPriorities.TryGetValue(user, out var weight) ? weight : 1;

    private void OnExited(ModelEntry entry, IModelInstance instance, string reason)
    {
        lock (entry.Gate)
        {
            if (!ReferenceEquals(entry.Instance, instance))
            {
                return;
            }

            entry.Instance = null;
            entry.State = ModelState.Failed;
            entry.Error = reason;
            entry.RecentCrashes.Enqueue(Stopwatch.GetTimestamp());
        }

        Interlocked.Increment(ref entry.Counters.CrashesValue);
        Unreserve(entry.Plan!);
        instance.Dispose();
        Changed(entry);
    }

    /// <summary>
    /// Reserves a load's share on every device, evicting idle unpinned models that occupy a device short of room (least
    /// recently used first) until every share fits; else refuses naming each device short of room, what the model needs
    /// there and what is available of its budget.
    /// </summary>
    private void Reserve(ModelEntry entry, MemoryPlan plan)
    {
        while (true)
        {
            ModelEntry? victim;
            string devices;
            lock (_budgetLock)
            {
                var lacking = plan.DeviceShares.Where(d => _reserved.GetValueOrDefault(d.Device) + d.Bytes > BudgetOf(d.Device)).ToList();
                if (lacking.Count == 0)
                {
                    foreach (var share in plan.DeviceShares)
                    {
                        _reserved[share.Device] = _reserved.GetValueOrDefault(share.Device) + share.Bytes;
                    }

                    return;
                }

                victim = _models
                    .Where(m => !ReferenceEquals(m, entry) && m.Instance is not null && m.State == ModelState.Ready && m.ActiveRequests == 0 && !m.Pinned)
                    .Where(m => lacking.Any(d => m.Plan?.BytesOn(d.Device) > 0))
                    .OrderBy(m => m.LastUsed)
                    .FirstOrDefault();
                if (victim is null)
                {
                    var refusal = new EngineException(
                        EngineErrorCode.ModelNotReady,
                        $"The model '{entry.Id}' {string.Join("; and ", lacking.Select(d => Shortage(entry, d)))}",
                        "model",
                        TimeSpan.FromSeconds(5));
                    LogLoadRefused(_logger, entry.Id, refusal.Message);
                    throw refusal;
                }

                devices = string.Join(", ", lacking.Where(d => victim.Plan!.BytesOn(d.Device) > 0).Select(d => d.Device));
            }

            if (Unload(victim, evicted: true, onlyIfExpired: false))
            {
                LogEvicted(_logger, victim.Id, entry.Id, devices);
            }
        }
    }

    /// <summary>"needs 5.2 GiB on gpu0 but only 3.1 GiB of the memory budget 70 GiB there is available (in use on gpu0: …)", under the budget lock.</summary>
    private string Shortage(ModelEntry entry, DeviceShare share)
    {
        var budget = BudgetOf(share.Device);
        var users = string.Join(", ", _models
            .Where(m => !ReferenceEquals(m, entry) && (m.Instance is not null || m.State == ModelState.Loading) && m.Plan?.BytesOn(share.Device) > 0)
            .Select(m => $"{m.Id} {MemoryPlan.Format(m.Plan!.BytesOn(share.Device))}{(m.Pinned ? " pinned" : m.ActiveRequests > 0 ? $" {m.ActiveRequests} active" : string.Empty)}"));
        return $"needs {MemoryPlan.Format(share.Bytes)} on {share.Device} but only {MemoryPlan.Format(Math.Max(0, budget - _reserved.GetValueOrDefault(share.Device)))} of the memory budget {MemoryPlan.Format(budget)} on {share.Device} is available{(users.Length > 0 ? $" (in use on {share.Device}: {users}; none can be evicted)" : string.Empty)}";
    }

    private void Unreserve(MemoryPlan plan)
    {
        lock (_budgetLock)
        {
            foreach (var share in plan.DeviceShares)
            {
                _reserved[share.Device] = Math.Max(0, _reserved.GetValueOrDefault(share.Device) - share.Bytes);
            }
        }
    }

    /// <summary>Ends a loaded model's instance when it is idle (and, with <paramref name="onlyIfExpired"/>, past its keep-alive).</summary>
    private bool Unload(ModelEntry entry, bool evicted, bool onlyIfExpired)
    {
        IModelInstance? instance;
        lock (entry.Gate)
        {
            instance = entry.Instance;
            if (instance is null || entry.ActiveRequests > 0 || entry.LoadTask is not null || (onlyIfExpired && entry.ExpiresAt > Stopwatch.GetTimestamp()))
            {
                return false;
            }

            entry.Instance = null;
            entry.State = ModelState.Pending;
            Interlocked.Increment(ref evicted ? ref entry.Counters.EvictionsValue : ref entry.Counters.UnloadsValue);
        }

        instance.Dispose();
        Unreserve(entry.Plan!);
        LogUnloaded(_logger, entry.Id, evicted ? "evicted" : "idle");
        Changed(entry);
        return true;
    }

    private async Task HousekeepAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        var lastScan = Stopwatch.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var entry in _models)
                {
                    if (entry.Instance is not null && entry.ActiveRequests == 0 && entry.ExpiresAt <= now)
                    {
                        Unload(entry, evicted: false, onlyIfExpired: true);
                    }
                }

                if (_options.RescanSeconds > 0 && Stopwatch.GetElapsedTime(lastScan).TotalSeconds >= _options.RescanSeconds)
                {
                    lastScan = Stopwatch.GetTimestamp();
                    Rescan();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Adds new files, drops removed ones (unloading them when idle), re-validates changed ones that are not loaded.</summary>
    internal void Rescan()
    {
        lock (_catalogLock)
        {
            var current = _models;
            var paths = ModelCatalog.Paths(_options).Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
            var pathSet = paths.ToHashSet(StringComparer.Ordinal);
            var changed = false;
            var next = new List<ModelEntry>();
            foreach (var entry in current)
            {
                if (!pathSet.Contains(entry.Path) || !File.Exists(entry.Path))
                {
                    if (entry.ActiveRequests == 0 && entry.LoadTask is null)
                    {
                        Unload(entry, evicted: false, onlyIfExpired: false);
                        LogCatalog(_logger, entry.Id, "removed", entry.Path);
                        changed = true;
                        continue;
                    }
                }
                else if (entry.Instance is null && entry.LoadTask is null && StampOf(entry.Path) != entry.FileStamp)
                {
                    var fresh = new ModelEntry(entry.Id, entry.Path);
                    ModelCatalog.Describe(fresh, _options, FreeMemory.Of(_backend));
                    entry.TokenizerOwner?.Dispose();
                    LogCatalog(_logger, fresh.Id, "changed", fresh.Path);
                    next.Add(fresh);
                    changed = true;
                    continue;
                }

                next.Add(entry);
            }

            var known = next.Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
            var ids = next.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var path in paths.Where(p => !known.Contains(p)))
            {
                var entry = new ModelEntry(ModelCatalog.IdFor(path, _options.Aliases), path);
                if (!ids.Add(entry.Id))
                {
                    entry.State = ModelState.Failed;
                    entry.Unloadable = true;
                    entry.Error = $"{path}: model id '{entry.Id}' is already used by another file; configure an alias";
                }
                else
                {
                    ModelCatalog.Describe(entry, _options, FreeMemory.Of(_backend));
                }

                LogCatalog(_logger, entry.Id, "added", path);
                next.Add(entry);
                changed = true;
            }

            if (changed)
            {
                var removed = current.Except(next).ToList();
                var added = next.Except(current).ToList();
                Publish(next);
                foreach (var entry in removed.Concat(added))
                {
                    Changed(entry);
                }
            }
        }
    }

    private static (long, DateTime) StampOf(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, DateTime.MinValue);
    }

    private void Publish(List<ModelEntry> entries)
    {
        var byId = new Dictionary<string, ModelEntry>(StringComparer.Ordinal);
        foreach (var entry in entries.Where(e => !(e.Unloadable && e.Error?.Contains("is already used", StringComparison.Ordinal) == true)))
        {
            byId.TryAdd(entry.Id, entry);
        }

        foreach (var entry in entries)
        {
            foreach (var alias in entry.Settings.Aliases.Where(a => !string.IsNullOrWhiteSpace(a)))
            {
                byId.TryAdd(alias, entry);
            }
        }

        _models = [.. entries];
        _byId = byId;
    }

    private void Changed(ModelEntry entry)
    {
        try
        {
            StateChanged?.Invoke(entry);
        }
#pragma warning disable CA1031 // an observer must not break the lifecycle
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogObserverFailed(_logger, ex, entry.Id);
        }
    }

    /// <summary>The chat template for the model; a configured template that cannot be used fails the model for good.</summary>
    private ChatTemplateChoice ChooseTemplateOrFail(ModelEntry entry, LoadedVocabulary vocabulary)
    {
        try
        {
            return ChooseChatTemplate(entry, vocabulary.Tokenizer);
        }
        catch
        {
            entry.Unloadable = true;
            vocabulary.Owner?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decides how the model renders chat (--chat-template, else the GGUF's template) and warns once at load when
    /// it cannot: chat requests then get a 400 naming the cause and the fix; /v1/completions is unaffected.
    /// </summary>
    private ChatTemplateChoice ChooseChatTemplate(ModelEntry entry, ITokenizer tokenizer)
    {
        var choice = ChatTemplates.Choose(entry.Settings.ChatTemplate, entry.Info!.ChatTemplate, entry.Info.VocabType, name =>
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

    [LoggerMessage(EventId = EngineEventIds.MemoryPlan, Level = LogLevel.Information, Message = "Memory plan for {Model}: {Plan}")]
    private static partial void LogPlan(ILogger logger, string model, MemoryPlan plan);

    [LoggerMessage(EventId = EngineEventIds.ModelReady, Level = LogLevel.Information, Message = "Model {Model} ready from {Path} ({Architecture}, {Parameters} parameters; worker pid {Pid} (0 = in process); loaded in {Seconds:0.00} s)")]
    private static partial void LogModelReady(ILogger logger, string model, string path, string architecture, long parameters, int pid, double seconds);

    [LoggerMessage(EventId = EngineEventIds.ModelSkipped, Level = LogLevel.Error, Message = "Model {Model} skipped: {Reason}")]
    private static partial void LogModelFailed(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = EngineEventIds.ModelUnloaded, Level = LogLevel.Information, Message = "Model {Model} unloaded ({Why})")]
    private static partial void LogUnloaded(ILogger logger, string model, string why);

    [LoggerMessage(EventId = EngineEventIds.ModelEvicted, Level = LogLevel.Information, Message = "Model {Model} evicted to make room for {Needed} on {Devices}")]
    private static partial void LogEvicted(ILogger logger, string model, string needed, string devices);

    [LoggerMessage(EventId = EngineEventIds.MemoryBudgets, Level = LogLevel.Information, Message = "Memory budgets: {Budgets}")]
    private static partial void LogBudgets(ILogger logger, string budgets);

    [LoggerMessage(EventId = EngineEventIds.LoadRefused, Level = LogLevel.Information, Message = "Model {Model} not loaded: {Reason}")]
    private static partial void LogLoadRefused(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = EngineEventIds.CatalogChanged, Level = LogLevel.Information, Message = "Model {Model} {Change}: {Path}")]
    private static partial void LogCatalog(ILogger logger, string model, string change, string path);

    [LoggerMessage(EventId = EngineEventIds.StateObserverFailed, Level = LogLevel.Warning, Message = "A model state observer failed for {Model}")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception, string model);
}
