using System.Diagnostics;
using System.Diagnostics.Metrics;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Engine.Observability;

/// <summary>
/// The engine's measurements, where they originate: a <see cref="System.Diagnostics.Metrics.Meter"/> per engine
/// (so two engines in one process never mix their numbers) and a shared <see cref="ActivitySource"/> for traces.
/// Instrument names follow OpenTelemetry style ("sovereign.requests"); the server's Prometheus bridge turns
/// them into Prometheus names (sovereign_requests_total, ..._seconds). vLLM's vllm:* set is the model.
/// </summary>
public sealed class EngineTelemetry : IDisposable
{
    /// <summary>Name of the meter and of the activity source.</summary>
    public const string SourceName = "SovereignInference.Engine";

    /// <summary>Spans: sovereign.generate with children sovereign.queue_wait, sovereign.prefill, sovereign.decode.</summary>
    public static ActivitySource ActivitySource { get; } = new(SourceName);

    private static readonly double[] LatencyBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640];

    private static readonly double[] TokenLatencyBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];

    private static readonly string[] LifecycleStates = ["unloaded", "loading", "loaded", "failed"];

    private static readonly double[] LoadBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640];

    private static readonly int[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];

    public EngineTelemetry(Func<IEnumerable<ModelEntry>> models)
        : this(models, null)
    {
    }

    /// <param name="manager">The model lifecycle, for the per-model lifecycle instruments (state, loads, memory).</param>
    public EngineTelemetry(Func<IEnumerable<ModelEntry>> models, Models.ModelManager? manager)
    {
        Meter = new Meter(SourceName, typeof(EngineTelemetry).Assembly.GetName().Version?.ToString());
        Requests = Meter.CreateCounter<long>("sovereign.requests", "{request}", "Engine calls finished, by model, status and finish reason.");
        PromptTokens = Meter.CreateCounter<long>("sovereign.prompt_tokens", "{token}", "Prompt tokens processed.");
        GenerationTokens = Meter.CreateCounter<long>("sovereign.generation_tokens", "{token}", "Tokens generated.");
        PrefixCacheHitTokens = Meter.CreateCounter<long>("sovereign.prefix_cache_hit_tokens", "{token}", "Prompt tokens whose KV cells were reused from the prefix cache.");
        TimeToFirstToken = Meter.CreateHistogram("sovereign.time_to_first_token", "s", "From the call to the first generated token.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        InterTokenLatency = Meter.CreateHistogram("sovereign.inter_token_latency", "s", "Between two consecutive generated tokens of one request.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TokenLatencyBuckets });
        EndToEndLatency = Meter.CreateHistogram("sovereign.e2e_request_latency", "s", "From the call to its last update.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        QueueTime = Meter.CreateHistogram("sovereign.request_queue_time", "s", "Time a request waited for a slot.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        BatchSize = Meter.CreateHistogram("sovereign.batch_size", "{sequence}", "Sequences in one decode step (decoding plus prefilling).", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchBuckets });
        StepDuration = Meter.CreateHistogram("sovereign.step_duration", "s", "One scheduler step: planning, the decode call of the whole batch, sampling and publishing.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TokenLatencyBuckets });
        DecodeDuration = Meter.CreateHistogram("sovereign.decode_duration", "s", "The llama_decode call of one scheduler step alone (the step less planning, sampling and publishing).", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TokenLatencyBuckets });
        Refused = Meter.CreateCounter<long>("sovereign.requests.refused", "{request}", "Requests refused before the engine, by transport, route and reason (unauthenticated, rate_limited, model_not_found, too_large, malformed).");
        ServerErrors = Meter.CreateCounter<long>("sovereign.server_errors", "{request}", "Responses that were the server's fault: HTTP 5xx and gRPC UNKNOWN, INTERNAL, UNAVAILABLE, DATA_LOSS, by transport, route and status.");
        BatchTokens = Meter.CreateHistogram("sovereign.iteration_tokens", "{token}", "Tokens in one decode step (one per decoding sequence plus prompt chunks).", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchBuckets });
        Meter.CreateObservableGauge("sovereign.num_requests_waiting", () => PerModel(models(), s => s.QueuedRequests), "{request}", "Requests waiting for a slot (queue depth).");
        Meter.CreateObservableGauge("sovereign.num_requests_running", () => Running(models()), "{request}", "Sequences holding a slot (in a worker: sequences sent to it and not finished).");
        if (manager is not null)
        {
            Meter.CreateObservableGauge("sovereign.model_state", () => States(models()), null, "1 for each model's current lifecycle state, 0 for the other three (label state: unloaded, loading, loaded, failed).");
            Meter.CreateObservableCounter("sovereign.model_loads", () => Count(models(), c => c.Loads), "{load}", "Successful loads of a model.");
            Meter.CreateObservableCounter("sovereign.model_unloads", () => Count(models(), c => c.Unloads), "{unload}", "Unloads after the keep-alive or by the admin API.");
            Meter.CreateObservableCounter("sovereign.model_evictions", () => Count(models(), c => c.Evictions), "{eviction}", "Unloads to make room within the memory budget.");
            Meter.CreateObservableCounter("sovereign.model_crashes", () => Count(models(), c => c.Crashes), "{crash}", "Failed loads and worker exits.");
            Meter.CreateObservableGauge("sovereign.model_load_time", () => Each(models(), m => m.Counters.LastLoadSeconds), "s", "Seconds the last successful load of a model took.");
            var loadDuration = Meter.CreateHistogram("sovereign.model_load_duration", "s", "Seconds each successful load of a model took (one observation per load).", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LoadBuckets });
            manager.Loaded += (entry, seconds) => loadDuration.Record(seconds, new KeyValuePair<string, object?>("model", entry.Id));
            Meter.CreateObservableGauge("sovereign.model_memory", () => ModelMemory(models()), "By", "A loaded model's memory estimate on each device it occupies (label device: ram, gpu0, …; 0 while unloaded).");
            Meter.CreateObservableGauge("sovereign.memory_budget", () => Devices(manager, d => d.Budget), "By", "Memory all loaded models may occupy on a device (--memory-budget; label device: ram, gpu0, …).");
            Meter.CreateObservableGauge("sovereign.memory_in_use", () => Devices(manager, d => manager.InUseOn(d.Id)), "By", "Memory estimates on a device of the models loaded or loading now (label device).");
        }
        Meter.CreateObservableGauge("sovereign.kv_cache_usage", () => PerModel(models(), s => s.KvCellsCapacity == 0 ? 0 : (double)s.KvCellsUsed / s.KvCellsCapacity), "1", "Fraction of KV cells in use (1 = full), including cached prefixes.");
        Meter.CreateObservableGauge("sovereign.cache_config_info", () => CacheConfig(models()), null, "Always 1; the labels describe the KV cache: block_size (tokens per block) and num_gpu_blocks (blocks). llama.cpp keeps one KV cell per token, so a block is one cell and num_gpu_blocks is the cell count of the model's contexts (on the CPU as on a GPU).");
    }

    /// <summary>The meter every instrument of this engine belongs to.</summary>
    public Meter Meter { get; }

    internal Counter<long> Requests { get; }

    internal Counter<long> PromptTokens { get; }

    internal Counter<long> GenerationTokens { get; }

    internal Counter<long> PrefixCacheHitTokens { get; }

    internal Histogram<double> TimeToFirstToken { get; }

    internal Histogram<double> InterTokenLatency { get; }

    internal Histogram<double> EndToEndLatency { get; }

    internal Histogram<double> QueueTime { get; }

    internal Histogram<int> BatchSize { get; }

    internal Histogram<int> BatchTokens { get; }

    internal Histogram<double> StepDuration { get; }

    internal Histogram<double> DecodeDuration { get; }

    private Counter<long> Refused { get; }

    private Counter<long> ServerErrors { get; }

    /// <summary>
    /// Counts a request refused before it became an engine call. Every label must come from a fixed set the
    /// server owns (a mapped route or method, a reason constant), never from the request.
    /// </summary>
    public void RecordRefusal(string transport, string route, string reason) =>
        Refused.Add(
            1,
            new KeyValuePair<string, object?>("transport", transport),
            new KeyValuePair<string, object?>("route", route),
            new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Counts a response that was the server's fault (labels from fixed sets, as <see cref="RecordRefusal"/>).</summary>
    public void RecordServerError(string transport, string route, string status) =>
        ServerErrors.Add(
            1,
            new KeyValuePair<string, object?>("transport", transport),
            new KeyValuePair<string, object?>("route", route),
            new KeyValuePair<string, object?>("status", status));

    /// <summary>Records one scheduler step of <paramref name="model"/> (runs on the scheduler thread).</summary>
    internal void RecordStep(string model, StepRecord step)
    {
        var tag = new KeyValuePair<string, object?>("model", model);
        BatchSize.Record(step.DecodeSequences + step.PrefillSequences, tag);
        BatchTokens.Record(step.DecodeSequences + step.PrefillTokens, tag);
        StepDuration.Record(step.Elapsed.TotalSeconds, tag);
        DecodeDuration.Record(step.DecodeElapsed.TotalSeconds, tag);
    }

    public void Dispose() => Meter.Dispose();

    /// <summary>
    /// The KV cache's shape as the Kubernetes inference gateway's endpoint picker reads it (vLLM's cache_config_info):
    /// llama.cpp allocates KV per token cell, not in pages, so block_size is 1 and num_gpu_blocks the cells of all slots.
    /// </summary>
    private static IEnumerable<Measurement<int>> CacheConfig(IEnumerable<ModelEntry> models)
    {
        foreach (var model in models)
        {
            if (model.Scheduler is { } scheduler)
            {
                yield return new Measurement<int>(
                    1,
                    new KeyValuePair<string, object?>("model", model.Id),
                    new KeyValuePair<string, object?>("block_size", "1"),
                    new KeyValuePair<string, object?>("num_gpu_blocks", scheduler.KvCellsCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
    }

    private static IEnumerable<Measurement<int>> Running(IEnumerable<ModelEntry> models)
    {
        foreach (var model in models)
        {
            if (model.Instance is { } instance)
            {
                yield return new Measurement<int>(instance.ActiveSequences, new KeyValuePair<string, object?>("model", model.Id));
            }
        }
    }

    private static IEnumerable<Measurement<long>> ModelMemory(IEnumerable<ModelEntry> models)
    {
        foreach (var model in models)
        {
            if (model.Plan is { } plan)
            {
                var loaded = model.Instance is not null;
                foreach (var share in plan.DeviceShares)
                {
                    yield return new Measurement<long>(loaded ? share.Bytes : 0, new KeyValuePair<string, object?>("model", model.Id), new KeyValuePair<string, object?>("device", share.Device));
                }
            }
        }
    }

    private static IEnumerable<Measurement<long>> Devices(Models.ModelManager manager, Func<Models.MemoryDevice, long> read)
    {
        foreach (var device in manager.MemoryDevices)
        {
            yield return new Measurement<long>(read(device), new KeyValuePair<string, object?>("device", device.Id));
        }
    }

    private static IEnumerable<Measurement<int>> States(IEnumerable<ModelEntry> models)
    {
        foreach (var model in models)
        {
            var current = model.Status;
            foreach (var state in LifecycleStates)
            {
                yield return new Measurement<int>(state == current ? 1 : 0, new KeyValuePair<string, object?>("model", model.Id), new KeyValuePair<string, object?>("state", state));
            }
        }
    }

    private static IEnumerable<Measurement<long>> Count(IEnumerable<ModelEntry> models, Func<ModelCounters, long> read)
    {
        foreach (var model in models)
        {
            yield return new Measurement<long>(read(model.Counters), new KeyValuePair<string, object?>("model", model.Id));
        }
    }

    private static IEnumerable<Measurement<T>> Each<T>(IEnumerable<ModelEntry> models, Func<ModelEntry, T> read)
        where T : struct
    {
        foreach (var model in models)
        {
            yield return new Measurement<T>(read(model), new KeyValuePair<string, object?>("model", model.Id));
        }
    }

    private static IEnumerable<Measurement<T>> PerModel<T>(IEnumerable<ModelEntry> models, Func<ModelScheduler, T> read)
        where T : struct
    {
        foreach (var model in models)
        {
            if (model.Scheduler is { } scheduler)
            {
                yield return new Measurement<T>(read(scheduler), new KeyValuePair<string, object?>("model", model.Id));
            }
        }
    }
}
