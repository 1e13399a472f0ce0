using SovereignInference.Engine.Hosting;

namespace SovereignInference.Server.Http;

/// <summary>GET /v1/models and /v1/models/{id}: OpenAI's model objects plus our provenance fields.</summary>
internal static class ModelsEndpoints
{
    public static void MapModelsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (InferenceEngine engine) => Results.Json(new
        {
            @object = "list",
            data = engine.Models.Where(m => m.State == ModelState.Ready).Select(ToModelObject),
        }));
        app.MapGet("/v1/models/{id}", (string id, InferenceEngine engine) =>
        {
            var model = engine.Models.FirstOrDefault(m => m.Id == id && m.State == ModelState.Ready);
            return model is null
                ? OpenAiErrors.Result(StatusCodes.Status404NotFound, $"The model '{id}' does not exist", "invalid_request_error", "model", "model_not_found")
                : Results.Json(ToModelObject(model));
        });
    }

    private static object ToModelObject(ModelEntry m) => new
    {
        id = m.Id,
        @object = "model",
        created = m.LoadedAtUnixSeconds,
        owned_by = "sovereign",
        sha256 = m.Info?.Sha256,
        file_size = m.Info?.FileSize,
        quantization = m.Info?.Quantization,
        context_length = m.Info?.ContextLength,
        architecture = m.Info?.Architecture,
        parameters = m.Info?.ParameterCount,
    };
}
