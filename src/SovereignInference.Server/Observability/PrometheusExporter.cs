using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;
using SovereignInference.Engine.Hosting;

namespace SovereignInference.Server.Observability;

/// <summary>
/// Bridges the engine's <see cref="Meter"/> to a private prometheus-net registry with Prometheus names:
/// dots become underscores, counters end in _total, histograms in seconds end in _seconds and ratios in
/// _ratio ("sovereign.time_to_first_token" (s) → sovereign_time_to_first_token_seconds). Only this
/// engine's meter is listened to, so two servers in one process never mix numbers. Histogram buckets come
/// from the instrument's advice; observable gauges are read at scrape time, and a series an observable instrument no
/// longer reports (a model's former state, a removed model) is dropped, not left at its last value.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Sink> _sinks = new();
    private readonly MetricFactory _factory;
    private readonly Lock _collectLock = new();

    public PrometheusExporter(InferenceEngine engine)
    {
        Registry = Metrics.NewCustomRegistry();
        _factory = (MetricFactory)Metrics.WithCustomRegistry(Registry);
        var meter = engine.Telemetry.Meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        _listener.Start();
        Registry.AddBeforeCollectCallback(CollectObservables);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>The Prometheus name of an instrument.</summary>
    public static string PrometheusName(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_').Replace('-', '_');
        var isCounter = instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == typeof(Counter<>);
        var suffix = instrument.Unit switch
        {
            "s" => "_seconds",
            "1" => "_ratio",
            _ => "",
        };
        if (!name.EndsWith(suffix, StringComparison.Ordinal))
        {
            name += suffix;
        }

        return isCounter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Reads every observable instrument, then drops the series of theirs that this reading did not report.</summary>
    private void CollectObservables()
    {
        lock (_collectLock)
        {
            foreach (var sink in _sinks.Values)
            {
                sink.Reported?.Clear();
            }

            _listener.RecordObservableInstruments();
            foreach (var sink in _sinks.Values)
            {
                sink.DropUnreported();
            }
        }
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            labels[i] = tags[i].Key;
        }

        var sink = _sinks.GetOrAdd(instrument, (inst, names) => CreateSink(inst, names), labels);
        var values = new string[sink.LabelNames.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = "";
            foreach (var tag in tags)
            {
                if (tag.Key == sink.LabelNames[i])
                {
                    values[i] = Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                }
            }
        }

        sink.Record(values, value);
        sink.Reported?[string.Join('\0', values)] = values;
    }

    private Sink CreateSink(Instrument instrument, string[] labelNames)
    {
        var name = PrometheusName(instrument);
        var help = instrument.Description ?? instrument.Name;
        var type = instrument.GetType().GetGenericTypeDefinition();
        if (type == typeof(Counter<>))
        {
            var counter = _factory.CreateCounter(name, help, labelNames);
            return new Sink(labelNames, (values, v) => counter.WithLabels(values).Inc(v));
        }

        if (type == typeof(Histogram<>))
        {
            var buckets = instrument switch
            {
                Histogram<double> d => d.Advice?.HistogramBucketBoundaries?.ToArray(),
                Histogram<int> n => n.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
                Histogram<long> l => l.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
                _ => null,
            };
            var histogram = _factory.CreateHistogram(name, help, labelNames, new HistogramConfiguration { Buckets = buckets ?? Histogram.ExponentialBuckets(0.001, 2, 16) });
            return new Sink(labelNames, (values, v) => histogram.WithLabels(values).Observe(v));
        }

        var gauge = _factory.CreateGauge(name, help, labelNames);
        return type == typeof(UpDownCounter<>)
            ? new Sink(labelNames, (values, v) => gauge.WithLabels(values).Inc(v))
            : new Sink(labelNames, (values, v) => gauge.WithLabels(values).Set(v), instrument.IsObservable ? gauge : null);
    }

    /// <param name="Observable">The gauge of an observable instrument, whose series live only while it reports them.</param>
    private sealed record Sink(string[] LabelNames, Action<string[], double> Record, Gauge? Observable = null)
    {
        /// <summary>Series reported by the reading in progress (observable instruments only; under the collect lock).</summary>
        public Dictionary<string, string[]>? Reported { get; } = Observable is null ? null : new(StringComparer.Ordinal);

        private Dictionary<string, string[]> Live { get; } = new(StringComparer.Ordinal);

        public void DropUnreported()
        {
            if (Observable is null || Reported is null)
            {
                return;
            }

            foreach (var (key, values) in Live.Where(l => !Reported.ContainsKey(l.Key)).ToList())
            {
                Observable.RemoveLabelled(values);
                Live.Remove(key);
            }

            foreach (var (key, values) in Reported)
            {
                Live[key] = values;
            }
        }
    }
}
