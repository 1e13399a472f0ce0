using System.Text.Json.Nodes;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Hosting;
using SovereignInference.Server.Http.OpenAi.Endpoints;
using SovereignInference.Server.Http.OpenAi.Generation;
using SovereignInference.Server.Http.OpenAi.Streaming;
using SovereignInference.Server.Http.OpenAi.Validation;
using SovereignInference.Server.Security;

namespace SovereignInference.Server.Http.Anthropic;

/// <summary>
/// The Anthropic Messages API: POST /v1/messages (streamed or not) and POST /v1/messages/count_tokens. Errors under
/// /v1/messages are Anthropic-shaped (<see cref="AnthropicErrors"/>); the key may come as <c>x-api-key</c>.
/// </summary>
internal static class MessagesEndpoints
{
    public const string PathPrefix = "/v1/messages";

    public static void MapMessagesEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(PathPrefix, CreateAsync);
        app.MapPost(PathPrefix + "/count_tokens", CountTokensAsync);
    }

    private static Task CreateAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        MessagesRequest request;
        using (var document = await RequestBody.ReadJsonAsync(context))
        {
            request = MessagesRequest.Parse(document.RootElement);
        }

        await using var call = await ChatCall.StartAsync(context, engine, request.Chat);
        var (common, choice, streams) = (call.Common, call.Choices[0], call.Streams);

        SseWriter? sse = null;
        if (common.Stream)
        {
            sse = new SseWriter(context);
            await sse.StartAsync();
        }

        var output = new MessagesOutput(UsageTotals.NewId("msg_"), common.Model, sse);
        await output.StartAsync(call.PromptTokens);
        await foreach (var update in streams.ReadAllAsync(context.RequestAborted))
        {
            if (update.Error is not null)
            {
                throw update.Error;
            }

            await output.StepAsync(choice.Apply(update.Update!));
        }

        var message = await output.FinishAsync(choice, choice.MatchedStop);
        if (sse is null)
        {
            await Results.Text(message.ToJsonString(), "application/json").ExecuteAsync(context);
        }
    });

    private static Task CountTokensAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        MessagesRequest request;
        using (var document = await RequestBody.ReadJsonAsync(context))
        {
            request = MessagesRequest.Parse(document.RootElement, countOnly: true);
        }

        var model = await engine.GetModelAsync(request.Chat.Common.Model, context.RequestAborted);
        var turn = ChatTurn.Prepare(model, request.Chat.Messages, request.Chat.Tools, request.Chat.ToolChoice, request.Chat.ToolName, request.Chat.ReasoningEffort);
        await Results.Text(new JsonObject { ["input_tokens"] = turn.PromptTokens.Count }.ToJsonString(), "application/json").ExecuteAsync(context);
    });
}
