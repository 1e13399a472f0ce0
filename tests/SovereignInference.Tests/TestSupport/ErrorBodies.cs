using System.Text.Json;

namespace SovereignInference.Tests.TestSupport;

/// <summary>Reads the error kind out of the server's error bodies: OpenAI's error.code, or Anthropic's error.type under /v1/messages.</summary>
internal static class ErrorBodies
{
    /// <summary>error.code, else error.type (the Anthropic shape); null when the body is not a JSON error body.</summary>
    public static string? ErrorCode(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("error", out var error))
            {
                return null;
            }

            return error.TryGetProperty("code", out var code) ? code.GetString()
                : error.TryGetProperty("type", out var type) ? type.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static async Task<string?> ErrorCodeAsync(HttpResponseMessage response) =>
        ErrorCode(await response.Content.ReadAsStringAsync());
}
