using System.Text;
using System.Text.Json;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
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
    public const int MaxContentChars = 1 << 20;

    public static Task TokenizeAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        using var document = await RequestBody.ReadJsonAsync(context);
        var root = document.RootElement;
        var model = Resolve(engine, root);
        var content = String(root, "content") ?? throw Invalid("content", "is required");
        if (content.Contains('\0', StringComparison.Ordinal))
        {
            throw Invalid("content", "must not contain NUL characters");
        }

        if (content.Length > MaxContentChars)
        {
            throw Invalid("content", $"may hold at most {MaxContentChars} characters");
        }

        var tokenizer = model.Tokenizer!;
        var tokens = tokenizer.Tokenize(content, Bool(root, "add_special") ?? false, Bool(root, "parse_special") ?? true);
        IResult result = Bool(root, "with_pieces") == true
            ? Results.Json(new TokenizeWithPiecesResponse([.. tokens.Select(t => new TokenPiece(t, tokenizer.GetPieceText(t)))]), OpenAiJsonContext.Default.TokenizeWithPiecesResponse)
            : Results.Json(new TokenizeResponse(tokens), OpenAiJsonContext.Default.TokenizeResponse);
        await result.ExecuteAsync(context);
    });

    public static Task DetokenizeAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        using var document = await RequestBody.ReadJsonAsync(context);
        var root = document.RootElement;
        var model = Resolve(engine, root);
        if (!TryGet(root, "tokens", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("tokens", "is required and must be an array of token ids");
        }

        var tokenizer = model.Tokenizer!;
        var bytes = new List<byte>();
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var id = (int)IntegerValue(item, $"tokens[{i++}]", 0, tokenizer.VocabSize - 1);
            bytes.AddRange(tokenizer.GetPieceBytes(id).ToArray());
        }

        await Results.Json(new DetokenizeResponse(Encoding.UTF8.GetString([.. bytes])), OpenAiJsonContext.Default.DetokenizeResponse).ExecuteAsync(context);
    });

    internal static ModelEntry Resolve(InferenceEngine engine, JsonElement root)
    {
        if (String(root, "model") is { } id)
        {
            return engine.GetReadyModel(id);
        }

        var ready = engine.Models.FirstOrDefault(m => m.State == ModelState.Ready);
        return ready ?? throw new EngineException(EngineErrorCode.ModelNotReady, "No model is ready yet", "model");
    }
}
