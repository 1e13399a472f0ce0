using System.Buffers.Binary;
using SovereignInference.Engine.Hosting;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Validation;
using SovereignInference.Server.Security;

namespace SovereignInference.Server.Http.OpenAi.Endpoints;

/// <summary>POST /v1/embeddings: body → one <see cref="InferenceEngine.EmbedAsync(Engine.Embedding.EmbeddingRequest, CancellationToken)"/> call → list of vectors.</summary>
internal static class EmbeddingsEndpoint
{
    public static Task HandleAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        EmbeddingsRequest request;
        using (var document = await RequestBody.ReadJsonAsync(context))
        {
            request = EmbeddingsRequest.Parse(document.RootElement);
        }

        var result = await engine.EmbedAsync(request.Engine with { User = RequestIdentity.UserFor(context, request.User) }, context.RequestAborted);
        if (request.Dimensions is { } dimensions && result.Vectors.Count > 0 && result.Vectors[0].Length != dimensions)
        {
            throw JsonFields.Unsupported("dimensions", $"the model '{request.Model}' has {result.Vectors[0].Length} dimensions and cannot shorten its vectors (got {dimensions})");
        }

        var usage = new EmbeddingUsage(result.PromptTokens, result.PromptTokens);
        IResult response = request.Encoding == EmbeddingEncoding.Base64
            ? Results.Json(
                new EmbeddingListResponse<string>([.. result.Vectors.Select((v, i) => new EmbeddingDto<string>(i, Base64(v)))], request.Model, usage),
                OpenAiJsonContext.Default.EmbeddingListResponseString)
            : Results.Json(
                new EmbeddingListResponse<float[]>([.. result.Vectors.Select((v, i) => new EmbeddingDto<float[]>(i, v))], request.Model, usage),
                OpenAiJsonContext.Default.EmbeddingListResponseSingleArray);
        await response.ExecuteAsync(context);
    });

    /// <summary>The vector as little-endian float32 bytes, base64 (OpenAI's encoding_format "base64").</summary>
    private static string Base64(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return Convert.ToBase64String(bytes);
    }
}
