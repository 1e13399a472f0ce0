using System.Text.Json.Nodes;
using static SovereignInference.Tests.Server.Http.OpenAi.Conformance.OpenAiSpec;

namespace SovereignInference.Tests.Server.Http.OpenAi.Conformance;

/// <summary>The vendored schemas catch what the issue reported, and OpenAPI 3.0 "nullable" is honoured.</summary>
public sealed class OpenAiSpecSchemaTests
{
    private const string Chat = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m",
         "choices":[{"index":0,"finish_reason":"stop","logprobs":null,"message":{"role":"assistant","content":"Hi","refusal":null}}],
         "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}
        """;

    [Fact]
    public void A_chat_completion_as_OpenAI_sends_it_is_valid() => Assert.Empty(Errors(ChatCompletion, JsonNode.Parse(Chat)));

    [Fact]
    public void A_chat_message_without_refusal_is_refused_by_the_spec()
    {
        var body = JsonNode.Parse(Chat)!;
        body["choices"]![0]!["message"]!.AsObject().Remove("refusal");

        Assert.Contains(Errors(ChatCompletion, body), e => e.Contains("refusal", StringComparison.Ordinal));
    }

    [Fact]
    public void Chat_logprobs_without_refusal_are_refused_by_the_spec()
    {
        var body = JsonNode.Parse(Chat)!;
        body["choices"]![0]!["logprobs"] = new JsonObject { ["content"] = new JsonArray() };

        Assert.NotEmpty(Errors(ChatCompletion, body));
    }

    [Fact]
    public void A_nullable_field_of_the_spec_accepts_null_and_still_refuses_other_types()
    {
        // CreateChatCompletionStreamResponse's finish_reason is {type: string, enum: [...], nullable: true}.
        var chunk = JsonNode.Parse("""{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":null}]}""")!;
        Assert.Empty(Errors(ChatCompletionChunk, chunk));

        chunk["choices"]![0]!["finish_reason"] = 3;
        Assert.NotEmpty(Errors(ChatCompletionChunk, chunk));
        chunk["choices"]![0]!["finish_reason"] = "sideways";
        Assert.NotEmpty(Errors(ChatCompletionChunk, chunk));
    }
}
