using System.Text.Json;
using System.Text.Json.Nodes;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Endpoints;
using SovereignInference.Server.Http.OpenAi.Validation;
using SovereignInference.Server.Security;

namespace SovereignInference.Server.Http.Admin;

/// <summary>
/// llama-server's router admin routes: POST /models/load and POST /models/unload with <c>{"model": "ID"}</c>. When
/// API keys are configured they need a key marked admin (<see cref="AdminOnly"/>). The answer is
/// <c>{"success": true, "model": {…the /v1/models object…}}</c>; a load that fails is a 503 naming the reason.
/// </summary>
internal static class ModelAdminEndpoints
{
    public static void MapModelAdminEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/models/load", LoadAsync).WithMetadata(new AdminOnly());
        app.MapPost("/models/unload", UnloadAsync).WithMetadata(new AdminOnly());
    }

    private static Task LoadAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        var id = await ModelOfAsync(context);
        var entry = await engine.LoadModelAsync(id, context.RequestAborted);
        await WriteAsync(context, entry);
    });

    private static Task UnloadAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        var id = await ModelOfAsync(context);
        await WriteAsync(context, engine.UnloadModel(id));
    });

    private static async Task<string> ModelOfAsync(HttpContext context)
    {
        using var document = await RequestBody.ReadJsonAsync(context);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw EngineException.Invalid("model", "the body must be a JSON object {\"model\": \"ID\"}");
        }

        return JsonFields.String(root, "model") is { Length: > 0 } id
            ? id
            : throw EngineException.Invalid("model", "'model' is required: the id of a model listed by GET /v1/models");
    }

    private static Task WriteAsync(HttpContext context, ModelEntry entry)
    {
        var body = new JsonObject
        {
            ["success"] = true,
            ["model"] = JsonSerializer.SerializeToNode(ModelsEndpoints.ToDto(entry), OpenAiJsonContext.Default.ModelDto),
        };
        return Results.Text(body.ToJsonString(), "application/json").ExecuteAsync(context);
    }
}
