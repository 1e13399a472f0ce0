using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Generation;
using SovereignInference.Server.Http.OpenAi.Streaming;
using SovereignInference.Server.Http.OpenAi.Validation;
using SovereignInference.Server.Security;

namespace SovereignInference.Server.Http.OpenAi.Endpoints;

/// <summary>POST /v1/completions: prompts (text or token ids) × n engine requests → text_completion or SSE chunks.</summary>
internal static class CompletionsEndpoint
{
    public static Task HandleAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        CompletionRequest request;
        using (var document = await RequestBody.ReadJsonAsync(context))
        {
            request = CompletionRequest.Parse(document.RootElement);
        }

        var common = request.Common with { User = RequestIdentity.UserFor(context, request.Common.User) };
        var model = await engine.GetModelAsync(common.Model, context.RequestAborted);
        var tokenizer = model.ReadyTokenizer();
        var requests = request.Prompts
            .SelectMany((p, promptIndex) => Enumerable.Range(0, common.N).Select(i => common.ToRequest(promptIndex * common.N + i, p.Tokens, p.Text)))
            .ToList();
        var choices = Enumerable.Range(0, requests.Count).Select(i => new CompletionChoiceState(i, tokenizer, common.Sampling.Logprobs)).ToArray();

        await using var streams = await ChoiceStreams<GenerationUpdate>.StartAsync(requests.Count, (i, ct) => engine.GenerateAsync(requests[i], ct), context.RequestAborted);
        var id = UsageTotals.NewId("cmpl-");
        var created = UsageTotals.Now();
        if (!common.Stream)
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
            await Results.Json(new CompletionResponse(id, created, common.Model, [.. choices.Select(c => c.ToChoice())], usage), OpenAiJsonContext.Default.CompletionResponse)
                .ExecuteAsync(context);
            return;
        }

        var sse = new SseWriter(context);
        await sse.StartAsync();
        await foreach (var update in streams.ReadAllAsync(context.RequestAborted))
        {
            if (update.Error is not null)
            {
                throw update.Error;
            }

            var choice = choices[update.Index];
            var logprobs = choice.Apply(update.Update!);
            var finish = choice.Finish is null ? null : choice.FinishReasonText;
            // A chunk per generated token, even when its text is still held (an incomplete UTF-8 character, a possible
            // stop string): clients see every token arrive, as vLLM streams them; only a token-less update is skipped.
            if (update.Update!.Text.Length > 0 || update.Update.Tokens.Count > 0 || logprobs is not null || finish is not null)
            {
                await sse.WriteAsync(
                    new CompletionResponse(id, created, common.Model, [new CompletionChoice(choice.Index, update.Update.Text, logprobs, finish)], null),
                    OpenAiJsonContext.Default.CompletionResponse);
            }
        }

        if (common.IncludeUsage)
        {
            var usage = UsageTotals.Sum(choices.Select(c => (c.Index, c.Usage)), common.N);
            await sse.WriteAsync(new CompletionResponse(id, created, common.Model, [], usage), OpenAiJsonContext.Default.CompletionResponse);
        }

        await sse.WriteDoneAsync();
    });
}
