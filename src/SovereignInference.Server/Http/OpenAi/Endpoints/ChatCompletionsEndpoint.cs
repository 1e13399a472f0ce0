using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Output;
using SovereignInference.Server.Hosting;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Generation;
using SovereignInference.Server.Http.OpenAi.Streaming;
using SovereignInference.Server.Http.OpenAi.Validation;
using SovereignInference.Server.Security;
using ChatDelta = SovereignInference.Server.Http.OpenAi.Contracts.ChatDelta;

namespace SovereignInference.Server.Http.OpenAi.Endpoints;

/// <summary>POST /v1/chat/completions: body → n engine chat calls (InferenceEngine.ChatAsync) → chat.completion or SSE chunks.</summary>
internal static class ChatCompletionsEndpoint
{
    public static Task HandleAsync(HttpContext context, InferenceEngine engine, ServerOptions options) => OpenAiCall.RunAsync(context, async () =>
    {
        ChatRequest request;
        using (var document = await RequestBody.ReadJsonAsync(context))
        {
            request = ChatRequest.Parse(document.RootElement);
        }

        await using var call = await ChatCall.StartAsync(context, engine, request);
        var (common, choices, streams) = (call.Common, call.Choices.ToArray(), call.Streams);

        var id = UsageTotals.NewId("chatcmpl-");
        var created = UsageTotals.Now();
        if (common.Stream)
        {
            await StreamAsync(context, streams, choices, id, created, common, options.ReasoningField);
        }
        else
        {
            await foreach (var update in streams.ReadAllAsync(context.RequestAborted))
            {
                if (update.Error is not null)
                {
                    throw update.Error;
                }

                choices[update.Index].Apply(update.Update!);
            }

            var usage = UsageTotals.Sum(choices.Select(c => (c.Index, c.Usage)), common.N);
            var response = new ChatCompletionResponse(id, created, common.Model, [.. choices.Select(c => c.ToChoice(options.ReasoningField))], usage);
            await Results.Json(response, OpenAiJsonContext.Default.ChatCompletionResponse).ExecuteAsync(context);
        }
    });

    private static async Task StreamAsync(HttpContext context, ChoiceStreams<Engine.Output.ChatDelta> streams, ChatChoiceState[] choices, string id, long created, CommonParameters common, string reasoningField)
    {
        var sse = new SseWriter(context);
        await sse.StartAsync();
        foreach (var choice in choices)
        {
            await sse.WriteAsync(Chunk(new ChatChunkChoice(choice.Index, new ChatDelta("assistant", ""), null, null)), OpenAiJsonContext.Default.ChatCompletionChunk);
        }

        await foreach (var update in streams.ReadAllAsync(context.RequestAborted))
        {
            if (update.Error is not null)
            {
                throw update.Error;
            }

            var choice = choices[update.Index];
            var step = choice.Apply(update.Update!);
            if (step.Content.Length > 0 || step.Reasoning.Length > 0 || step.ToolCalls.Count > 0 || step.Logprobs is { Count: > 0 })
            {
                var delta = new ChatDelta(
                    null,
                    step.Content.Length > 0 || (step.ToolCalls.Count == 0 && step.Reasoning.Length == 0) ? step.Content : null,
                    step.ToolCalls.Count > 0 ? [.. step.ToolCalls.Select(ChatChoiceState.ToDto)] : null).WithReasoning(step.Reasoning, reasoningField);
                var logprobs = step.Logprobs is { Count: > 0 } lp ? new ChatLogprobs(lp) : null;
                await sse.WriteAsync(Chunk(new ChatChunkChoice(choice.Index, delta, logprobs, null)), OpenAiJsonContext.Default.ChatCompletionChunk);
            }

            if (choice.Finish is not null)
            {
                await sse.WriteAsync(Chunk(new ChatChunkChoice(choice.Index, new ChatDelta(), null, choice.FinishReasonText)), OpenAiJsonContext.Default.ChatCompletionChunk);
            }
        }

        if (common.IncludeUsage)
        {
            var usage = UsageTotals.Sum(choices.Select(c => (c.Index, c.Usage)), common.N);
            await sse.WriteAsync(new ChatCompletionChunk(id, created, common.Model, [], usage), OpenAiJsonContext.Default.ChatCompletionChunk);
        }

        await sse.WriteDoneAsync();

        ChatCompletionChunk Chunk(ChatChunkChoice choice) => new(id, created, common.Model, [choice]);
    }
}
