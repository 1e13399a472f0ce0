using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Server.Observability;

namespace SovereignInference.Server.Http.OpenAi.Endpoints;

/// <summary>GET /v1/models and /v1/models/{id}: OpenAI's model objects plus our provenance fields.</summary>
internal static class ModelsEndpoints
{
    public static IResult List(InferenceEngine engine) =>
        Results.Json(new ModelListDto([.. engine.Models.Where(m => m.State == ModelState.Ready).Select(ToDto)]), OpenAiJsonContext.Default.ModelListDto);

    public static IResult Get(string id, InferenceEngine engine, HttpContext context)
    {
        var model = engine.Models.FirstOrDefault(m => m.Id == id && m.State == ModelState.Ready);
        if (model is null)
        {
            RequestMetrics.CountRefusal(context, RefusalReason.ModelNotFound);
            return OpenAiErrorMapper.Result(OpenAiErrorMapper.From(new EngineException(EngineErrorCode.ModelNotFound, $"The model '{id}' does not exist", "model")));
        }

        return Results.Json(ToDto(model), OpenAiJsonContext.Default.ModelDto);
    }

    private static ModelDto ToDto(ModelEntry m) => new(
        m.Id,
        m.LoadedAtUnixSeconds,
        m.Info?.Sha256,
        m.Info?.FileSize,
        m.Info?.Quantization,
        m.Info?.ContextLength,
        m.Info?.Architecture,
        m.Info?.ParameterCount);
}
