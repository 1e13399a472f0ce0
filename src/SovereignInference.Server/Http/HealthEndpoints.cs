using SovereignInference.Engine.Hosting;

namespace SovereignInference.Server.Http;

/// <summary>/health/live (the process answers) and /health/ready (models loaded, not draining).</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        // Open like probes must be: the key check skips endpoints marked AllowAnonymous.
        app.MapGet("/health/live", () => Results.Json(new { status = "live" })).AllowAnonymous();
        app.MapGet("/health/ready", (InferenceEngine engine) =>
        {
            var body = new
            {
                status = engine.IsReady ? "ready" : engine.IsDraining ? "draining" : engine.IsLoadingComplete ? "no model serving" : "loading",
                models = engine.Models.Select(m => new { id = m.Id, state = m.State.ToString().ToLowerInvariant(), error = m.Error }),
            };
            return Results.Json(body, statusCode: engine.IsReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).AllowAnonymous();
    }
}
