using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Tests.TestSupport;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AiChatRole = Microsoft.Extensions.AI.ChatRole;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>/v1/chat/completions through the official OpenAI .NET SDK and Microsoft.Extensions.AI, on the real server.</summary>
public sealed class ChatCompletionsSdkTests
{
    [Fact]
    public async Task Chat_completion_answers_with_the_scripted_reply_and_usage()
    {
        await using var server = await ServerHarness.StartAsync();
        var chat = OpenAiTestSupport.Client(server).GetChatClient("scripted");

        var result = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Hi")], new ChatCompletionOptions { Temperature = 0 });

        var completion = result.Value;
        Assert.Equal("Hello world!", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 3);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal(0, server.Services.GetRequiredService<UnexpectedErrorCounter>().Count);
    }

    [Fact]
    public async Task Streamed_text_at_temperature_zero_joins_to_the_non_streamed_text()
    {
        await using var server = await ServerHarness.StartAsync();
        var chat = OpenAiTestSupport.Client(server).GetChatClient("scripted");
        var options = new ChatCompletionOptions { Temperature = 0 };

        var whole = (await chat.CompleteChatAsync([new UserChatMessage("Hi")], options)).Value.Content[0].Text;
        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        var updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hi")], options))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(whole, streamed.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.True(updates >= 4, "role chunk, one chunk per token, finish chunk");
    }

    [Fact]
    public async Task Max_tokens_gives_length_and_a_stop_string_gives_stop()
    {
        await using var server = await ServerHarness.StartAsync();
        var chat = OpenAiTestSupport.Client(server).GetChatClient("scripted");

        var cut = (await chat.CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 2 })).Value;
        var stopped = (await chat.CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { Temperature = 0, StopSequences = { "world" } })).Value;

        Assert.Equal(ChatFinishReason.Length, cut.FinishReason);
        Assert.Equal("Hello world", cut.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.Equal("Hello ", stopped.Content[0].Text);
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_chat_client_gets_the_reply_streamed_and_not()
    {
        await using var server = await ServerHarness.StartAsync();
        IChatClient client = OpenAiTestSupport.Client(server).GetChatClient("scripted").AsIChatClient();
        var options = new ChatOptions { Temperature = 0 };

        var response = await client.GetResponseAsync([new AiChatMessage(AiChatRole.User, "Hi")], options);
        var streamed = new StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync([new AiChatMessage(AiChatRole.User, "Hi")], options))
        {
            streamed.Append(update.Text);
        }

        Assert.Equal("Hello world!", response.Text);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(response.Text, streamed.ToString());
    }

    [Fact]
    public async Task Models_are_listed_through_the_sdk()
    {
        await using var server = await ServerHarness.StartAsync();
        var models = OpenAiTestSupport.Client(server).GetOpenAIModelClient();

        var list = (await models.GetModelsAsync()).Value;
        var one = (await models.GetModelAsync("scripted")).Value;

        Assert.Equal("scripted", Assert.Single(list).Id);
        Assert.Equal("sovereign", one.OwnedBy);
    }

    [Fact]
    public async Task N_three_gives_three_indexed_choices_with_summed_usage()
    {
        await using var server = await ServerHarness.StartAsync();
        const string Body = """{"model":"scripted","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"n":3,"temperature":0}""";

        var (response, json) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", Body);

        Assert.True(response.IsSuccessStatusCode, json.RootElement.ToString());
        var choices = json.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.All(choices, c => Assert.Equal("Hello world!", c.GetProperty("message").GetProperty("content").GetString()));
        Assert.Equal(9, json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    /// <summary>
    /// On the random "tiny" model at temperature 1 the next-token distribution is close to flat, so what a
    /// seed decides is visible: the same seed repeats, another seed differs, and choice i of n runs with
    /// seed + i (docs/http-api.md).
    /// </summary>
    [Fact]
    public async Task Seeded_sampling_repeats_differs_by_seed_and_choice_i_uses_seed_plus_i()
    {
        await using var server = await ServerHarness.StartAsync(ServerHarness.TinyAndScripted());

        async Task<List<string>> ChatAsync(int seed, int n)
        {
            var (response, json) = await OpenAiTestSupport.PostJsonAsync(
                server,
                "v1/chat/completions",
                $$"""{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"n":{{n}},"seed":{{seed}},"temperature":1,"max_tokens":16}""");
            Assert.True(response.IsSuccessStatusCode, json.RootElement.ToString());
            return [.. json.RootElement.GetProperty("choices").EnumerateArray()
                .OrderBy(c => c.GetProperty("index").GetInt32())
                .Select(c => c.GetProperty("message").GetProperty("content").GetString()!)];
        }

        var seven = Assert.Single(await ChatAsync(7, 1));
        Assert.Equal(seven, Assert.Single(await ChatAsync(7, 1)));
        var others = new List<string>();
        foreach (var seed in new[] { 8, 9, 1000, 123_456 })
        {
            others.Add(Assert.Single(await ChatAsync(seed, 1)));
        }

        Assert.All(others, other => Assert.NotEqual(seven, other));

        var three = await ChatAsync(7, 3);
        Assert.Equal([seven, others[0], others[1]], three);
        Assert.Equal(3, three.Distinct().Count());
    }

    [Fact]
    public async Task Logprobs_come_in_the_chat_format_with_top_alternatives()
    {
        await using var server = await ServerHarness.StartAsync();
        var (response, json) = await OpenAiTestSupport.PostJsonAsync(
            server, "v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"temperature":0,"logprobs":true,"top_logprobs":2}""");

        Assert.True(response.IsSuccessStatusCode, json.RootElement.ToString());
        var content = json.RootElement.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content").EnumerateArray().ToList();
        Assert.Equal([" Hello", " world", "!"], content.Select(c => c.GetProperty("token").GetString()));
        Assert.All(content, c =>
        {
            Assert.True(c.GetProperty("logprob").GetDouble() <= 0);
            Assert.Equal(2, c.GetProperty("top_logprobs").GetArrayLength());
            Assert.Equal(Encoding.UTF8.GetByteCount(c.GetProperty("token").GetString()!), c.GetProperty("bytes").GetArrayLength());
        });
        Assert.Equal(content[0].GetProperty("token").GetString(), content[0].GetProperty("top_logprobs")[0].GetProperty("token").GetString());
    }
}
