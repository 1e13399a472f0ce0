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
/// from the instrument's advice; observable gauges are read at scrape time.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Sink> _sinks = new();
    private readonly MetricFactory _factory;

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
        Registry.AddBeforeCollectCallback(_listener.RecordObservableInstruments);
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
            : new Sink(labelNames, (values, v) => gauge.WithLabels(values).Set(v));
    }

    private sealed record Sink(string[] LabelNames, Action<string[], double> Record);
}
