namespace SovereignInference.Server.Http;

/// <summary>OpenAI error bodies: {"error":{"message","type","param","code"}}.</summary>
internal static class OpenAiErrors
{
    public static IResult Result(int status, string message, string type, string? param = null, string? code = null) =>
        Results.Json(new { error = new { message, type, param, code } }, statusCode: status);
}
