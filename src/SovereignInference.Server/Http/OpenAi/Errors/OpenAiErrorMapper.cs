using System.Globalization;
using System.Text.Json;
using SovereignInference.Engine.Errors;
using SovereignInference.Server.Http.OpenAi.Contracts;

namespace SovereignInference.Server.Http.OpenAi.Errors;

/// <summary>An OpenAI error: HTTP status, body and, for overload, a Retry-After delay.</summary>
internal sealed record OpenAiError(int Status, ErrorBody Body, TimeSpan? RetryAfter = null);

/// <summary>The one place where failures become OpenAI errors (status + {"error":{…}} body).</summary>
internal static class OpenAiErrorMapper
{
    public static OpenAiError From(EngineException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex.Code switch
        {
            EngineErrorCode.InvalidArgument => new(StatusCodes.Status400BadRequest, new(ex.Message, "invalid_request_error", ex.Param, "invalid_value")),
            EngineErrorCode.PromptTooLong => new(StatusCodes.Status400BadRequest, new(ex.Message, "invalid_request_error", ex.Param ?? "messages", "context_length_exceeded")),
            EngineErrorCode.ModelNotFound => new(StatusCodes.Status404NotFound, new(ex.Message, "invalid_request_error", "model", "model_not_found")),
            EngineErrorCode.ModelNotReady => new(StatusCodes.Status503ServiceUnavailable, new(ex.Message, "server_error", "model", "model_not_ready")),
            EngineErrorCode.Overloaded => new(StatusCodes.Status429TooManyRequests, new(ex.Message, "rate_limit_error", null, "overloaded"), ex.RetryAfter ?? TimeSpan.FromSeconds(1)),
            EngineErrorCode.ShuttingDown => new(StatusCodes.Status503ServiceUnavailable, new(ex.Message, "server_error", null, "shutting_down")),
            _ => new(StatusCodes.Status500InternalServerError, new(ex.Message, "server_error", null, "backend_failure")),
        };
    }

    public static OpenAiError From(OpenAiHttpException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return new(ex.Status, new(ex.Message, "invalid_request_error", ex.Param, ex.Code));
    }

    public static OpenAiError Unexpected() =>
        new(StatusCodes.Status500InternalServerError, new("The server failed unexpectedly; the failure was logged", "server_error", null, "internal_error"));

    /// <summary>Writes the error as the response (status, Retry-After, JSON body).</summary>
    public static async Task WriteAsync(HttpContext context, OpenAiError error)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = error.Status;
        if (error.RetryAfter is { } retry)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        if (Anthropic.AnthropicErrors.Applies(context))
        {
            await context.Response.WriteAsync(Anthropic.AnthropicErrors.Body(error.Status, error.Body.Message).ToJsonString(), context.RequestAborted);
            return;
        }

        await JsonSerializer.SerializeAsync(context.Response.Body, new ErrorResponse(error.Body), OpenAiJsonContext.Default.ErrorResponse, context.RequestAborted);
    }

    /// <summary>As an IResult, for minimal-API handlers.</summary>
    public static IResult Result(OpenAiError error) =>
        Results.Json(new ErrorResponse(error.Body), OpenAiJsonContext.Default.ErrorResponse, statusCode: error.Status);
}
