using SovereignInference.Engine.Errors;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Server.Http.OpenAi.Streaming;
using SovereignInference.Server.Observability;

namespace SovereignInference.Server.Http.OpenAi.Endpoints;

/// <summary>
/// Runs an endpoint body and turns its failures into OpenAI errors: a status and error body while nothing was
/// sent, an SSE error event once a stream began, nothing when the client is gone.
/// </summary>
internal static class OpenAiCall
{
    public static async Task RunAsync(HttpContext context, Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("SovereignInference.OpenAi");
        var path = context.Request.Path.Value ?? "";
        OpenAiError error;
        try
        {
            await body();
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            OpenAiLog.ClientGone(logger, path);
            return;
        }
        catch (EngineException ex)
        {
            error = OpenAiErrorMapper.From(ex);
        }
        catch (OpenAiHttpException ex)
        {
            error = OpenAiErrorMapper.From(ex);
        }
#pragma warning disable CA1031 // once a stream began, the last-resort handler cannot answer; report it in-stream
        catch (Exception ex) when (context.Response.HasStarted)
#pragma warning restore CA1031
        {
            OpenAiLog.Unexpected(logger, ex, path);
            context.RequestServices.GetRequiredService<UnexpectedErrorCounter>().Increment();
            error = OpenAiErrorMapper.Unexpected();
        }

        if (error.Status is StatusCodes.Status404NotFound or StatusCodes.Status413PayloadTooLarge)
        {
            RequestMetrics.CountRefusal(context, error.Status);
        }

        if (!context.Response.HasStarted)
        {
            if (error.Status < 500)
            {
                OpenAiLog.ClientError(logger, path, error.Status, error.Body.Param, error.Body.Message);
            }

            await OpenAiErrorMapper.WriteAsync(context, error);
            return;
        }

        OpenAiLog.StreamFailed(logger, path, error.Body.Message);
        try
        {
            if (Anthropic.AnthropicErrors.Applies(context))
            {
                await new SseWriter(context).WriteEventAsync("error", Anthropic.AnthropicErrors.Body(error.Status, error.Body.Message));
            }
            else
            {
                await new SseWriter(context).WriteAsync(new ErrorResponse(error.Body), OpenAiJsonContext.Default.ErrorResponse);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }
}
