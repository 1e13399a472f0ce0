using System.Text;
using System.Text.Json;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Validation;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Endpoints;

/// <summary>
/// POST /tokenize {"content","add_special"?,"parse_special"?,"with_pieces"?,"model"?} and
/// POST /detokenize {"tokens","model"?}, with llama-server's bodies. Without "model" the first ready model answers.
/// </summary>
internal static class TokenizeEndpoints
{
    public static Task TokenizeAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        using var document = await RequestBody.ReadJsonAsync(context);
        var root = document.RootElement;
        var content = String(root, "content") ?? throw Invalid("content", "is required");
        var result = engine.Tokenize(String(root, "model"), content, Bool(root, "add_special") ?? false, Bool(root, "parse_special") ?? true, Bool(root, "with_pieces") == true, "content");
        IResult answer = result.Pieces is { } pieces
            ? Results.Json(new TokenizeWithPiecesResponse([.. result.Ids.Select((t, i) => new TokenPiece(t, pieces[i]))]), OpenAiJsonContext.Default.TokenizeWithPiecesResponse)
            : Results.Json(new TokenizeResponse([.. result.Ids]), OpenAiJsonContext.Default.TokenizeResponse);
        await answer.ExecuteAsync(context);
    });

    public static Task DetokenizeAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        using var document = await RequestBody.ReadJsonAsync(context);
        var root = document.RootElement;
        if (!TryGet(root, "tokens", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("tokens", "is required and must be an array of token ids");
        }

        var ids = array.EnumerateArray().Select((item, i) => IntegerValue(item, $"tokens[{i}]", long.MinValue, long.MaxValue)).ToList();
        var text = engine.Detokenize(String(root, "model"), ids, "tokens");
        await Results.Json(new DetokenizeResponse(text), OpenAiJsonContext.Default.DetokenizeResponse).ExecuteAsync(context);
    });

    internal static ModelEntry Resolve(InferenceEngine engine, JsonElement root) => engine.GetReadyModelOrFirst(String(root, "model"));
}
