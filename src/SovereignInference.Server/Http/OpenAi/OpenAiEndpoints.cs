using Microsoft.AspNetCore.Diagnostics;
using SovereignInference.Server.Http.Anthropic;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Endpoints;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Server.Http.OpenAi.Responses;
using SovereignInference.Server.Http.OpenApi;

namespace SovereignInference.Server.Http.OpenAi;

/// <summary>
/// The OpenAI-compatible HTTP API in one place. A request travels: Validation/ (body → typed request, 4xx naming
/// the field) → Chat formatting in the engine → Generation/ (n engine calls merged) → Contracts/ (response JSON)
/// or Streaming/ (SSE). Errors are mapped once, in Errors/OpenAiErrorMapper.
/// </summary>
public static class OpenAiEndpoints
{
    /// <summary>Services the endpoints need (the unexpected-error counter, the stored responses).</summary>
    public static IServiceCollection AddOpenAiApi(this IServiceCollection services) => services
        .AddSingleton<UnexpectedErrorCounter>()
        .AddSingleton(sp => new ResponseStore(
            sp.GetRequiredService<IConfiguration>().GetSection(ResponseStoreOptions.Section).Get<ResponseStoreOptions>() ?? new ResponseStoreOptions(),
            TimeProvider.System));

    /// <summary>Maps /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models(/{id}), /tokenize, /detokenize, /apply-template and the last-resort 500 handler.</summary>
    public static WebApplication MapOpenAiEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler(error => error.Run(async context =>
        {
            var feature = context.Features.Get<IExceptionHandlerFeature>();
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("SovereignInference.OpenAi");
            if (feature?.Error is BadHttpRequestException bad)
            {
                // A client's fault Kestrel met outside the body reader (e.g. a form or query read): its own 4xx.
                var error = OpenAiErrorMapper.From(Validation.RequestBody.FromBadRequest(bad));
                OpenAiLog.ClientError(logger, context.Request.Path.Value ?? "", error.Status, null, error.Body.Message);
                await OpenAiErrorMapper.WriteAsync(context, error);
                return;
            }

            OpenAiLog.Unexpected(logger, feature?.Error ?? new InvalidOperationException("unknown"), context.Request.Path.Value ?? "");
            context.RequestServices.GetService<UnexpectedErrorCounter>()?.Increment();
            await OpenAiErrorMapper.WriteAsync(context, OpenAiErrorMapper.Unexpected());
        }));

        // A route that matched nothing (404) or not with this method (405) answers an OpenAI error, never an empty body.
        app.UseStatusCodePages(context => RouteErrors.WriteAsync(context.HttpContext));

        app.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.HandleAsync)
            .AcceptsJson<ChatCompletionRequestShape>().AnswersJsonOrStream<ChatCompletionResponse, ChatCompletionChunk>().AnswersOpenAiErrors(StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge);
        app.MapPost("/v1/completions", CompletionsEndpoint.HandleAsync)
            .AcceptsJson<CompletionRequestShape>().AnswersJsonOrStream<CompletionResponse, CompletionResponse>().AnswersOpenAiErrors(StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge);
        app.MapPost("/v1/embeddings", EmbeddingsEndpoint.HandleAsync)
            .AcceptsJson<EmbeddingsRequestShape>().AnswersJson<EmbeddingListResponse<float[]>>().AnswersOpenAiErrors(StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge);
        app.MapGet("/v1/models", ModelsEndpoints.List)
            .AnswersJson<ModelListDto>().AnswersOpenAiErrors();
        app.MapGet("/v1/models/{id}", ModelsEndpoints.Get)
            .AnswersJson<ModelDto>().AnswersOpenAiErrors(StatusCodes.Status404NotFound);
        app.MapPost("/tokenize", TokenizeEndpoints.TokenizeAsync)
            .AcceptsJson<TokenizeRequestShape>().AnswersJson<TokenizeResponse>().AnswersOpenAiErrors(StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge);
        app.MapPost("/detokenize", TokenizeEndpoints.DetokenizeAsync)
            .AcceptsJson<DetokenizeRequestShape>().AnswersJson<DetokenizeResponse>().AnswersOpenAiErrors(StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge);
        app.MapPost("/apply-template", ApplyTemplateEndpoint.HandleAsync);
        Admin.ModelAdminEndpoints.MapModelAdminEndpoints(app);
        Admin.UsageAndAuditEndpoints.MapUsageAndAuditEndpoints(app);
        app.MapResponsesEndpoints();
        app.MapMessagesEndpoints();
        return app;
    }
}
