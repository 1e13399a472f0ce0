using System.Text.Json.Serialization;
using SovereignInference.Engine.Hosting;

namespace SovereignInference.Server.Http;

/// <summary>/health/live (the process answers) and /health/ready (models loaded, not draining).</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        // Open like probes must be: the key check skips endpoints marked AllowAnonymous.
        app.MapGet("/health/live", () => Results.Json(new LiveStatus("live")))
            .Produces<LiveStatus>().AllowAnonymous();
        app.MapGet("/health/ready", (InferenceEngine engine) =>
        {
            var body = new ReadyStatus(
                engine.IsReady ? "ready" : engine.IsDraining ? "draining" : engine.IsLoadingComplete ? "no model serving" : "loading",
                [.. engine.Models.Select(m => new ModelReadiness(m.Id, m.Status, m.Error))],
                [.. engine.Manager.MemoryDevices.Select(d => new DeviceMemoryStatus(d.Id, d.Name, d.Budget, engine.Manager.InUseOn(d.Id), d.FreeAtStart))]);
            return Results.Json(body, statusCode: engine.IsReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).Produces<ReadyStatus>().Produces<ReadyStatus>(StatusCodes.Status503ServiceUnavailable).AllowAnonymous();
    }
}

/// <summary>/health/live body.</summary>
internal sealed record LiveStatus([property: JsonPropertyName("status")] string Status);

/// <summary>/health/ready body: "ready", "draining", "no model serving" or "loading", and each model's state.</summary>
internal sealed record ReadyStatus(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("models")] IReadOnlyList<ModelReadiness> Models,
    [property: JsonPropertyName("memory")] IReadOnlyList<DeviceMemoryStatus> Memory);

/// <summary>
/// One memory account of the model manager: "ram" or "gpuN", the backend's name for it, its budget, the estimates of
/// the models loaded or loading on it now, and what it had free at start.
/// </summary>
internal sealed record DeviceMemoryStatus(
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("budget_bytes")] long BudgetBytes,
    [property: JsonPropertyName("in_use_bytes")] long InUseBytes,
    [property: JsonPropertyName("free_at_start_bytes")] long FreeAtStartBytes);

/// <summary>One model's state (loading, ready, failed, …) and its load error.</summary>
internal sealed record ModelReadiness(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("error")] string? Error);
