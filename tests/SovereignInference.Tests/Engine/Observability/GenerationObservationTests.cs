using System.Diagnostics.Metrics;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Observability;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Tests.Engine.Observability;

/// <summary>What one engine call leaves behind: its <see cref="GenerationRecord"/> and the engine's metrics.</summary>
public sealed class GenerationObservationTests : IDisposable
{
    private readonly EngineTelemetry _telemetry = new(() => []);
    private readonly MeterListener _listener = new();
    private readonly List<(string Name, double Value, Dictionary<string, object?> Tags)> _measurements = [];

    public GenerationObservationTests()
    {
        // Only this test's meter: other tests create engines with meters of the same name at the same time.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _telemetry.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _telemetry.Dispose();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_measurements)
        {
            _measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
        }
    }

    private List<(string Name, double Value, Dictionary<string, object?> Tags)> Measured(string name)
    {
        lock (_measurements)
        {
            return [.. _measurements.Where(m => m.Name == name)];
        }
    }

    private static GenerationRequest Request => new() { Model = "m", Prompt = "hi", User = "alice" };

    private static GenerationUpdate Tokens(string text, int count) =>
        new() { Text = text, Tokens = [.. Enumerable.Range(0, count).Select(i => new GeneratedToken(i, -1f, null))] };

    [Fact]
    public void A_finished_call_is_recorded_with_its_usage_and_counted_under_its_model_status_and_finish()
    {
        var observation = new GenerationObservation(_telemetry, Request, captureText: true);
        observation.OnUpdate(Tokens("Hel", 2));
        observation.OnUpdate(Tokens("lo", 1));
        observation.OnUpdate(new GenerationUpdate
        {
            Finish = FinishReason.Length,
            Usage = new UsageInfo(PromptTokens: 5, CompletionTokens: 3, CachedPromptTokens: 2),
            Timings = new GenerationTimings(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(3)),
        });

        var record = observation.End("abc123", servedModel: true);

        Assert.Equal(("ok", FinishReason.Length, 5, 3, 2, 8), (record.Status, record.Finish, record.PromptTokens, record.CompletionTokens, record.CachedPromptTokens, record.TotalTokens));
        Assert.Equal("Hello", record.CompletionText);
        Assert.Equal("abc123", record.ModelSha256);
        var request = Assert.Single(Measured("sovereign.requests"));
        Assert.Equal(("m", "ok", "length"), (request.Tags["model"], request.Tags["status"], request.Tags["finish_reason"]));
        Assert.Equal(3, Assert.Single(Measured("sovereign.generation_tokens")).Value);
        Assert.Equal(5, Assert.Single(Measured("sovereign.prompt_tokens")).Value);
        Assert.Equal(2, Assert.Single(Measured("sovereign.prefix_cache_hit_tokens")).Value);
        Assert.Single(Measured("sovereign.inter_token_latency")); // one gap between the two token updates
        Assert.Equal(0.002, Assert.Single(Measured("sovereign.time_to_first_token")).Value, 6);
    }

    [Fact]
    public void A_failed_call_is_recorded_with_the_error_code_as_status_and_its_tokens_so_far()
    {
        var observation = new GenerationObservation(_telemetry, Request, captureText: false);
        observation.OnUpdate(Tokens("x", 4));
        observation.OnError(new EngineException(EngineErrorCode.BackendFailure, "decode failed"));

        var record = observation.End(null, servedModel: true);

        Assert.Equal(("backend_failure", 4, (string?)null), (record.Status, record.CompletionTokens, record.CompletionText));
        Assert.Equal("backend_failure", Assert.Single(Measured("sovereign.requests")).Tags["status"]);
        Assert.Equal("none", Assert.Single(Measured("sovereign.requests")).Tags["finish_reason"]);
    }

    [Fact]
    public void A_call_that_ends_without_a_final_update_or_error_counts_as_cancelled()
    {
        var observation = new GenerationObservation(_telemetry, Request, captureText: false);
        observation.OnUpdate(Tokens("x", 1));

        Assert.Equal("cancelled", observation.End(null, servedModel: true).Status);
    }

    [Fact]
    public void A_call_for_a_model_the_engine_does_not_serve_is_recorded_but_not_counted()
    {
        // Metric labels come from the server's model list, never from the request.
        var observation = new GenerationObservation(_telemetry, Request with { Model = "no-such-model" }, captureText: false);
        observation.OnError(new EngineException(EngineErrorCode.ModelNotFound, "no such model", "model"));

        var record = observation.End(null, servedModel: false);

        Assert.Equal("model_not_found", record.Status);
        Assert.Empty(Measured("sovereign.requests"));
    }

    [Fact]
    public void A_scheduler_step_is_measured_as_sequences_and_tokens_in_the_batch()
    {
        _telemetry.RecordStep("m", new StepRecord(7, DecodeSequences: 3, PrefillTokens: 40, PrefillSequences: 2, ActiveSequences: 5, TimeSpan.FromMilliseconds(12), TimeSpan.FromMilliseconds(10)));

        Assert.Equal(5, Assert.Single(Measured("sovereign.batch_size")).Value);
        Assert.Equal(43, Assert.Single(Measured("sovereign.iteration_tokens")).Value);
        Assert.Equal(0.012, Assert.Single(Measured("sovereign.step_duration")).Value, 6);
        Assert.Equal(0.010, Assert.Single(Measured("sovereign.decode_duration")).Value, 6);
    }
}
