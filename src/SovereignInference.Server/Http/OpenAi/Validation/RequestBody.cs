using System.Text.Json;
using System.Text.Unicode;
using SovereignInference.Server.Http.OpenAi.Errors;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>
/// Reads a JSON request body: size capped by Kestrel's MaxRequestBodySize (413), bytes checked to be UTF-8,
/// nesting capped at <see cref="MaxDepth"/>. Every failure is an <see cref="OpenAiHttpException"/>.
/// </summary>
internal static class RequestBody
{
    public const int MaxDepth = 64;

    public static async Task<JsonDocument> ReadJsonAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var limit = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (limit is { } max && context.Request.ContentLength > max)
        {
            throw TooLarge(max);
        }

        byte[] bytes;
        try
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            bytes = buffer.ToArray();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(limit ?? 0);
        }

        if (bytes.Length == 0)
        {
            throw new OpenAiHttpException(StatusCodes.Status400BadRequest, "The request body is empty; send a JSON object", null, "invalid_json");
        }

        if (!Utf8.IsValid(bytes))
        {
            throw new OpenAiHttpException(StatusCodes.Status400BadRequest, "The request body is not valid UTF-8", null, "invalid_encoding");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            throw new OpenAiHttpException(
                StatusCodes.Status400BadRequest,
                $"The request body is not valid JSON (or nests deeper than {MaxDepth} levels): {ex.Message}",
                null,
                "invalid_json");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new OpenAiHttpException(StatusCodes.Status400BadRequest, "The request body must be a JSON object", null, "invalid_json");
        }

        return document;
    }

    private static OpenAiHttpException TooLarge(long max) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the limit of {max} bytes (Sovereign:MaxRequestBodyBytes)", null, "request_too_large");
}
