using SovereignInference.Engine.Chat;

namespace SovereignInference.Tests.Engine.Chat;

/// <summary>
/// Conversations normalized as mistral-common's request normalizer does before rendering (system prompts joined,
/// empty content skipped, consecutive turns merged, JSON re-serialized as Python does, prefill, content parts).
/// </summary>
public sealed class MistralNormalizationTests
{
    private static string Render(MistralTemplateVersion version, params ChatMessage[] messages) =>
        MistralChatFormatter.Format(messages, null, version).Text;

    [Fact]
    public void Several_and_misplaced_system_messages_join_into_the_one_system_prompt()
    {
        Assert.Equal("<s>[INST] s\n\nt\n\nb[/INST]", Render(MistralTemplateVersion.V3, new(ChatRole.System, "s"), new(ChatRole.System, "t"), new(ChatRole.User, "b")));
        Assert.Equal("<s>[INST] a[/INST][INST] s\n\nb[/INST]", Render(MistralTemplateVersion.V3, new(ChatRole.User, "a"), new(ChatRole.System, "s"), new(ChatRole.User, "b")));
        Assert.Equal("<s> [INST] s\n\nt\n\na [/INST] b</s> [INST] c [/INST]", Render(MistralTemplateVersion.V1, new(ChatRole.System, "s"), new(ChatRole.User, "a"), new(ChatRole.Assistant, "b"), new(ChatRole.System, "t"), new(ChatRole.User, "c")));
    }

    [Fact]
    public void Empty_system_and_user_content_is_skipped()
    {
        Assert.Equal("<s>[INST] a[/INST]", Render(MistralTemplateVersion.V3, new(ChatRole.System, ""), new(ChatRole.User, ""), new(ChatRole.User, "a")));
        Assert.Equal("<s>[INST]a[/INST]", Render(MistralTemplateVersion.V7Tekken, new(ChatRole.User, "a"), new(ChatRole.User, "")));
    }

    [Fact]
    public void Consecutive_assistant_messages_merge_and_a_conversation_may_start_with_the_assistant()
    {
        Assert.Equal("<s>[INST] a[/INST] b\n\nc</s>[INST] d[/INST]", Render(MistralTemplateVersion.V3, new(ChatRole.User, "a"), new(ChatRole.Assistant, "b"), new(ChatRole.Assistant, "c"), new(ChatRole.User, "d")));
        Assert.Equal("<s>[INST][/INST] hi</s>[INST] b[/INST]", Render(MistralTemplateVersion.V3, new(ChatRole.Assistant, "hi"), new(ChatRole.User, "b")));
        Assert.Equal("<s>hi</s>[INST]b[/INST]", Render(MistralTemplateVersion.V7Tekken, new(ChatRole.Assistant, "hi"), new(ChatRole.User, "b")));
    }

    [Fact]
    public void A_final_assistant_message_is_continued_by_the_reply()
    {
        var prompt = MistralChatFormatter.Format([new(ChatRole.User, "a"), new(ChatRole.Assistant, "The answer is")], null, MistralTemplateVersion.V7Tekken);

        Assert.Equal("<s>[INST]a[/INST]The answer is", prompt.Text);
    }

    [Theory]
    [InlineData(MistralTemplateVersion.V3Tekken, "a\n\nb")]
    [InlineData(MistralTemplateVersion.V15, "ab")]
    public void Content_given_as_parts_joins_as_the_reference_does(MistralTemplateVersion version, string joined)
    {
        var text = Render(version, new ChatMessage(ChatRole.User, "a\nb") { Parts = ["a", "", "b"] });

        Assert.Equal($"<s>[INST]{joined}[/INST]", text);
    }

    [Theory]
    [InlineData("", "{}")]
    [InlineData("""{"x": 2.50, "y": 1E3, "x": 3}""", """{"x": 3, "y": 1000.0}""")]
    [InlineData("""{"v":NaN,"w":-Infinity,"big":123456789012345678901,"tiny":1.5e-7,"huge":1e16,"neg":-0}""", """{"v": NaN, "w": -Infinity, "big": 123456789012345678901, "tiny": 1.5e-07, "huge": 1e+16, "neg": 0}""")]
    [InlineData("""{"s": "é\u00e9\n"}""", "{\"s\": \"éé\\n\"}")]
    [InlineData("not json", "\"not json\"")]
    public void Tool_call_arguments_are_re_serialized_as_python_json(string arguments, string rendered)
    {
        ChatMessage[] messages =
        [
            new(ChatRole.User, "a"),
            new(ChatRole.Assistant, null) { ToolCalls = [new ChatToolCall("abcdefghi", "f", arguments)] },
            new(ChatRole.Tool, "r") { ToolCallId = "abcdefghi" },
        ];

        var text = MistralChatFormatter.Format(messages, null, MistralTemplateVersion.V3Tekken).Text;

        Assert.Contains($"[TOOL_CALLS][{{\"name\": \"f\", \"arguments\": {rendered}, \"id\": \"abcdefghi\"}}]</s>", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Tool_results_before_v7_are_re_serialized_and_v13_puts_them_in_call_order()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.User, "a"),
            new(ChatRole.Assistant, null) { ToolCalls = [new ChatToolCall("aaaaaaaaa", "f", "{}"), new ChatToolCall("bbbbbbbbb", "g", "{}")] },
            new(ChatRole.Tool, "{\"t\": 2.50}") { ToolCallId = "bbbbbbbbb" },
            new(ChatRole.Tool, "first") { ToolCallId = "aaaaaaaaa" },
        ];

        Assert.Contains("[TOOL_RESULTS]{\"content\": {\"t\": 2.5}, \"call_id\": \"bbbbbbbbb\"}[/TOOL_RESULTS]", MistralChatFormatter.Format(messages, null, MistralTemplateVersion.V3Tekken).Text, StringComparison.Ordinal);
        Assert.EndsWith("[TOOL_RESULTS]first[/TOOL_RESULTS][TOOL_RESULTS]{\"t\": 2.50}[/TOOL_RESULTS]", MistralChatFormatter.Format(messages, null, MistralTemplateVersion.V13).Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(123.456, "123.456")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(-2.5, "-2.5")]
    public void Floats_print_as_python_repr(double value, string expected)
    {
        Assert.Equal(expected, PythonJson.PythonFloat(value));
    }
}
