using System.Text.Json.Nodes;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Server.Http.OpenAi.Endpoints;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Server.Http.OpenAi.Generation;
using SovereignInference.Server.Http.OpenAi.Streaming;
using SovereignInference.Server.Http.OpenAi.Validation;
using SovereignInference.Server.Http.OpenApi;
using SovereignInference.Server.Security;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Responses;

/// <summary>
/// The OpenAI Responses API: POST /v1/responses (streamed or not), GET and DELETE /v1/responses/{id}. A thin adapter
/// over the chat path: <see cref="ResponsesRequest"/> translates, the same engine call runs, <see cref="ResponseOutput"/>
/// shapes the answer.
/// </summary>
internal static class ResponsesEndpoints
{
    public static void MapResponsesEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/responses", CreateAsync)
            .AcceptsJson<ResponsesRequestShape>().AnswersJsonOrEvents<ResponseObjectShape, ResponseStreamEventShape>().AnswersOpenAiErrors(StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge);
        app.MapGet("/v1/responses/{id}", GetAsync)
            .AnswersJson<ResponseObjectShape>().AnswersOpenAiErrors(StatusCodes.Status404NotFound);
        app.MapDelete("/v1/responses/{id}", DeleteAsync)
            .AnswersJson<ResponseDeletedShape>().AnswersOpenAiErrors(StatusCodes.Status404NotFound);
    }

    private static Task CreateAsync(HttpContext context, InferenceEngine engine, ResponseStore store) => OpenAiCall.RunAsync(context, async () =>
    {
        var owner = context.GetApiKeyName();
        ResponsesRequest request;
        using (var document = await RequestBody.ReadJsonAsync(context))
        {
            var root = document.RootElement;
            JsonArray? previous = null;
            if (String(root, "previous_response_id") is { } previousId)
            {
                previous = store.Get(previousId, owner)?.Conversation
                    ?? throw new OpenAiHttpException(StatusCodes.Status404NotFound, $"Previous response with id '{previousId}' not found.", "previous_response_id", "previous_response_not_found");
            }

            request = ResponsesRequest.Parse(root, previous);
        }

        await using var call = await ChatCall.StartAsync(context, engine, request.Chat);
        var (common, choice, streams) = (call.Common, call.Choices[0], call.Streams);

        SseWriter? sse = null;
        if (common.Stream)
        {
            sse = new SseWriter(context);
            await sse.StartAsync();
        }

        var output = new ResponseOutput(UsageTotals.NewId("resp_"), UsageTotals.Now(), request, sse);
        await output.StartAsync();
        await foreach (var update in streams.ReadAllAsync(context.RequestAborted))
        {
            if (update.Error is not null)
            {
                throw update.Error;
            }

            var step = choice.Apply(update.Update!);
            if (sse is not null)
            {
                await output.StepAsync(step);
            }
        }

        var response = await output.FinishAsync(choice);
        if (request.Store)
        {
            // Both are this request's own nodes (the previous conversation was cloned when parsed), kept as they are.
            request.Conversation.Add(ResponseOutput.AssistantMessage(choice));
            store.Save(output.Id, owner, response, request.Conversation);
        }

        if (sse is null)
        {
            await Results.Text(response.ToJsonString(), "application/json").ExecuteAsync(context);
        }
    });

    private static IResult GetAsync(HttpContext context, string id, ResponseStore store) =>
        store.Get(id, context.GetApiKeyName()) is { } entry
            ? Results.Text(entry.Response.ToJsonString(), "application/json")
            : NotFound(id);

    private static IResult DeleteAsync(HttpContext context, string id, ResponseStore store) =>
        store.Delete(id, context.GetApiKeyName())
            ? Results.Text(new JsonObject { ["id"] = id, ["object"] = "response.deleted", ["deleted"] = true }.ToJsonString(), "application/json")
            : NotFound(id);

    private static IResult NotFound(string id) => OpenAiErrorMapper.Result(
        OpenAiErrorMapper.From(new OpenAiHttpException(StatusCodes.Status404NotFound, $"Response with id '{id}' not found.", "response_id", "response_not_found")));
}
