using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Server.Observability;

namespace SovereignInference.Server.Http.OpenAi.Endpoints;

/// <summary>
/// GET /v1/models and /v1/models/{id}: OpenAI's model objects plus our provenance fields and the lifecycle: every
/// catalogued model with its status (unloaded, loading, loaded, failed + reason), memory estimate and worker pid.
/// </summary>
internal static class ModelsEndpoints
{
    public static IResult List(InferenceEngine engine) =>
        Results.Json(new ModelListDto([.. engine.Models.Select(ToDto)]), OpenAiJsonContext.Default.ModelListDto);

    public static IResult Get(string id, InferenceEngine engine, HttpContext context)
    {
        var model = engine.Manager.Find(id);
        if (model is null)
        {
            RequestMetrics.CountRefusal(context, RefusalReason.ModelNotFound);
            return OpenAiErrorMapper.Result(OpenAiErrorMapper.From(new EngineException(EngineErrorCode.ModelNotFound, $"The model '{id}' does not exist", "model")));
        }

        return Results.Json(ToDto(model), OpenAiJsonContext.Default.ModelDto);
    }

    internal static ModelDto ToDto(ModelEntry m) => new(
        m.Id,
        m.LoadedAtUnixSeconds,
        m.Info?.Sha256,
        m.Info?.FileSize,
        m.Info?.Quantization,
        m.Info?.ContextLength,
        m.Info?.Architecture,
        m.Info?.ParameterCount,
        m.Status,
        m.State == ModelState.Failed ? m.Error : null,
        m.Plan?.TotalBytes,
        m.Pid,
        m.Pinned,
        m.Plan?.DeviceShares.ToDictionary(d => d.Device, d => d.Bytes, StringComparer.Ordinal));
}
