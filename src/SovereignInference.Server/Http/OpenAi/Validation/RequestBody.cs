using System.Text.Json;
using System.Text.Unicode;
using SovereignInference.Server.Http.OpenAi.Errors;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>
/// Reads a JSON request body: Content-Type must be JSON (415: a cross-site form or text/plain POST, which browsers
/// send without a preflight, never runs), size capped by Kestrel's MaxRequestBodySize (413), a body trickled too
/// slowly (408) or with broken chunked framing (400) refused, bytes checked to be UTF-8, nesting capped at
/// <see cref="MaxDepth"/>, and every string and property name checked to be whole UTF-16 (a lone surrogate escape
/// such as <c>"\ud800"</c> is valid JSON syntax but no text). Every failure is an <see cref="OpenAiHttpException"/>.
/// </summary>
internal static class RequestBody
{
    public const int MaxDepth = 64;

    public static async Task<JsonDocument> ReadJsonAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.HasJsonContentType())
        {
            throw new OpenAiHttpException(
                StatusCodes.Status415UnsupportedMediaType,
                $"The request body must be JSON: send the header 'Content-Type: application/json' (got '{context.Request.ContentType ?? "none"}')",
                null,
                "unsupported_media_type");
        }

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
        catch (BadHttpRequestException ex)
        {
            throw FromBadRequest(ex);
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

        if (HasSurrogateEscape(bytes) && FindBrokenText(document.RootElement, "") is { } path)
        {
            document.Dispose();
            throw new OpenAiHttpException(
                StatusCodes.Status400BadRequest,
                $"The request body holds a string that is not valid Unicode (a lone UTF-16 surrogate escape such as \\ud800) at {path}",
                path.StartsWith('$') ? null : path,
                "invalid_encoding");
        }

        return document;
    }

    /// <summary>
    /// A Kestrel request fault met while reading the body, as an OpenAI error with Kestrel's own status: 408 when
    /// the body arrived slower than the minimum data rate, 400 for broken chunked framing, 413 past the size limit.
    /// </summary>
    public static OpenAiHttpException FromBadRequest(BadHttpRequestException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex.StatusCode switch
        {
            StatusCodes.Status408RequestTimeout => new(ex.StatusCode, "The request body arrived too slowly and timed out", null, "request_timeout"),
            StatusCodes.Status413PayloadTooLarge => new(ex.StatusCode, "The request body is larger than the limit (Sovereign:MaxRequestBodyBytes)", null, "request_too_large"),
            >= 400 and < 500 => new(ex.StatusCode, $"The request is malformed: {ex.Message}", null, "bad_request"),
            _ => new(StatusCodes.Status400BadRequest, $"The request is malformed: {ex.Message}", null, "bad_request"),
        };
    }

    /// <summary>
    /// Whether the raw body holds a <c>\uD800</c>–<c>\uDFFF</c> escape at all: a lone surrogate can only come from one
    /// (the bytes are valid UTF-8), so bodies without one skip the walk over every string.
    /// </summary>
    internal static bool HasSurrogateEscape(ReadOnlySpan<byte> json)
    {
        for (var i = 0; i + 3 < json.Length; i++)
        {
            if (json[i] == '\\' && json[i + 1] == 'u' && (json[i + 2] | 0x20) == 'd' && IsSurrogateSecondDigit(json[i + 3]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>8, 9, a–f or A–F: the second hex digit of D800–DFFF.</summary>
    private static bool IsSurrogateSecondDigit(byte b) => b is (byte)'8' or (byte)'9' || (b | 0x20) is >= (byte)'a' and <= (byte)'f';

    /// <summary>
    /// The JSON path of the first string or property name that is not whole UTF-16 ("$" for a property name at
    /// the top level, "$.a.b" for one inside a.b), or null when all text is whole.
    /// </summary>
    internal static string? FindBrokenText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsWholeText(element) ? null : path;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindBrokenText(item, $"{path}[{index}]") is { } found)
                    {
                        return found;
                    }

                    index++;
                }

                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return path.Length == 0 ? "$" : "$." + path;
                    }

                    if (FindBrokenText(property.Value, path.Length == 0 ? name : $"{path}.{name}") is { } found)
                    {
                        return found;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static bool IsWholeText(JsonElement element)
    {
        try
        {
            _ = element.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static OpenAiHttpException TooLarge(long max) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the limit of {max} bytes (Sovereign:MaxRequestBodyBytes)", null, "request_too_large");
}
