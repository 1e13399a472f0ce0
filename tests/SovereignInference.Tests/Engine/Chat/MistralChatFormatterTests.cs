using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Errors;
using SovereignInference.Gguf;

namespace SovereignInference.Tests.Engine.Chat;

/// <summary>Prompts rendered exactly as mistral-common's instruct tokenizers decode them (special tokens kept).</summary>
public sealed class MistralChatFormatterTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new(ChatRole.System, "SYS"),
        new(ChatRole.User, "Hello, how are you?"),
        new(ChatRole.Assistant, "Fine, and you?"),
        new(ChatRole.User, "I'm doing great!"),
    ];

    [Theory]
    [InlineData(MistralTemplateVersion.V1, "<s> [INST] SYS\n\nHello, how are you? [/INST] Fine, and you?</s> [INST] I'm doing great! [/INST]")]
    [InlineData(MistralTemplateVersion.V3, "<s>[INST] Hello, how are you?[/INST] Fine, and you?</s>[INST] SYS\n\nI'm doing great![/INST]")]
    [InlineData(MistralTemplateVersion.V3Tekken, "<s>[INST]Hello, how are you?[/INST]Fine, and you?</s>[INST]SYS\n\nI'm doing great![/INST]")]
    [InlineData(MistralTemplateVersion.V7, "<s>[SYSTEM_PROMPT] SYS[/SYSTEM_PROMPT][INST] Hello, how are you?[/INST] Fine, and you?</s>[INST] I'm doing great![/INST]")]
    [InlineData(MistralTemplateVersion.V7Tekken, "<s>[SYSTEM_PROMPT]SYS[/SYSTEM_PROMPT][INST]Hello, how are you?[/INST]Fine, and you?</s>[INST]I'm doing great![/INST]")]
    public void Renders_a_conversation_with_system_prompt_per_version(MistralTemplateVersion version, string expected)
    {
        Assert.Equal(expected, MistralChatFormatter.Format(Conversation, null, version).Text);
    }

    private static readonly ToolDefinition Weather = new("get_weather", "Get weather", """{"type":"object","properties":{"city":{"type":"string"}}}""");

    private static readonly ChatMessage[] ToolConversation =
    [
        new(ChatRole.User, "Weather in Paris?"),
        new(ChatRole.Assistant, null) { ToolCalls = [new ChatToolCall("abcdefghi", "get_weather", """{"city":"Paris"}""")] },
        new(ChatRole.Tool, """{"temp": 20}""") { ToolCallId = "abcdefghi" },
    ];

    [Fact]
    public void V3_renders_available_tools_tool_calls_and_results()
    {
        var text = MistralChatFormatter.Format(ToolConversation, [Weather], MistralTemplateVersion.V3).Text;

        Assert.Equal(
            "<s>[AVAILABLE_TOOLS] [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}}][/AVAILABLE_TOOLS]"
            + "[INST] Weather in Paris?[/INST]"
            + "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abcdefghi\"}]</s>"
            + "[TOOL_RESULTS] {\"content\": {\"temp\": 20}, \"call_id\": \"abcdefghi\"}[/TOOL_RESULTS]",
            text);
    }

    [Fact]
    public void Tekken_renders_tools_without_segment_spaces()
    {
        var text = MistralChatFormatter.Format(ToolConversation, [Weather], MistralTemplateVersion.V3Tekken).Text;

        Assert.StartsWith("<s>[AVAILABLE_TOOLS][{\"type\": \"function\"", text, StringComparison.Ordinal);
        Assert.Contains("[/AVAILABLE_TOOLS][INST]Weather in Paris?[/INST][TOOL_CALLS][{\"name\": \"get_weather\"", text, StringComparison.Ordinal);
        Assert.EndsWith("[TOOL_RESULTS]{\"content\": {\"temp\": 20}, \"call_id\": \"abcdefghi\"}[/TOOL_RESULTS]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void V7_renders_tool_results_with_call_id_and_tool_content()
    {
        var text = MistralChatFormatter.Format(ToolConversation, [Weather], MistralTemplateVersion.V7).Text;

        Assert.EndsWith("[TOOL_RESULTS] abcdefghi[TOOL_CONTENT] {\"temp\": 20}[/TOOL_RESULTS]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Tool_result_that_is_not_json_is_embedded_as_a_string_and_tools_only_precede_the_last_user_message()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.User, "first"),
            new(ChatRole.Assistant, "ok"),
            new(ChatRole.User, "second"),
            new(ChatRole.Assistant, null) { ToolCalls = [new ChatToolCall("call_9f8e7d6c5b4a", "get_weather", "{}")] },
            new(ChatRole.Tool, "it is \"sunny\"") { ToolCallId = "call_9f8e7d6c5b4a" },
        ];

        var text = MistralChatFormatter.Format(messages, [Weather], MistralTemplateVersion.V3).Text;
        var mapped = ToolCallIds.ToMistralId("call_9f8e7d6c5b4a");

        Assert.StartsWith("<s>[INST] first[/INST] ok</s>[AVAILABLE_TOOLS]", text, StringComparison.Ordinal);
        Assert.Contains($"\"id\": \"{mapped}\"", text, StringComparison.Ordinal);
        Assert.EndsWith($"[TOOL_RESULTS] {{\"content\": \"it is \\\"sunny\\\"\", \"call_id\": \"{mapped}\"}}[/TOOL_RESULTS]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Required_tool_choice_opens_the_answer_with_tool_calls()
    {
        var prompt = MistralChatFormatter.Format([new(ChatRole.User, "x")], [Weather], MistralTemplateVersion.V3, forceToolCall: true, forcedFunction: "get_weather");

        Assert.Equal("<s>[AVAILABLE_TOOLS] [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}}][/AVAILABLE_TOOLS][INST] x[/INST][TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\":", prompt.Text);
        Assert.True(prompt.ToolCallsOpened);
    }

    [Fact]
    public void Consecutive_user_messages_are_joined_with_a_blank_line()
    {
        var text = MistralChatFormatter.Format([new(ChatRole.User, "a"), new(ChatRole.User, "b")], null, MistralTemplateVersion.V3).Text;

        Assert.Equal("<s>[INST] a\n\nb[/INST]", text);
    }

    public static TheoryData<string, ChatMessage[], MistralTemplateVersion> Inexpressible => new()
    {
        { "does not follow an assistant message with tool calls", [new(ChatRole.User, "a"), new(ChatRole.Tool, "r") { ToolCallId = "abcdefghi" }], MistralTemplateVersion.V3 },
        { "answers no tool call", [new(ChatRole.User, "a"), new(ChatRole.Assistant, null) { ToolCalls = [new("abcdefghi", "f", "{}")] }, new(ChatRole.Tool, "r") { ToolCallId = "zzzzzzzzz" }], MistralTemplateVersion.V3 },
        { "at least one message", [], MistralTemplateVersion.V3 },
        { "must be a user or system message", [new(ChatRole.Assistant, "a")], MistralTemplateVersion.V3 },
        { "did not get one tool result each", [new(ChatRole.User, "a"), new(ChatRole.Assistant, null) { ToolCalls = [new("abcdefghi", "f", "{}"), new("bbcdefghi", "g", "{}")] }, new(ChatRole.Tool, "r") { ToolCallId = "abcdefghi" }], MistralTemplateVersion.V3 },
        { "last message must be a user, tool or assistant message", [new(ChatRole.User, "a"), new(ChatRole.System, "s")], MistralTemplateVersion.V7 },
        { "no tool calling", [new(ChatRole.User, "a"), new(ChatRole.Assistant, null) { ToolCalls = [new("abcdefghi", "f", "{}")] }, new(ChatRole.Tool, "r") { ToolCallId = "abcdefghi" }], MistralTemplateVersion.V1 },
        { "both content and tool calls", [new(ChatRole.User, "a"), new(ChatRole.Assistant, "b") { ToolCalls = [new("abcdefghi", "f", "{}")] }, new(ChatRole.Tool, "r") { ToolCallId = "abcdefghi" }], MistralTemplateVersion.V3 },
    };

    [Theory]
    [MemberData(nameof(Inexpressible))]
    public void Conversations_the_format_cannot_express_are_invalid_messages(string reason, ChatMessage[] messages, MistralTemplateVersion version)
    {
        var ex = Assert.Throws<EngineException>(() => MistralChatFormatter.Format(messages, null, version));

        Assert.Equal(EngineErrorCode.InvalidArgument, ex.Code);
        Assert.Equal("messages", ex.Param);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tool_call_ids_are_nine_alphanumerics_and_foreign_ids_map_deterministically()
    {
        var fresh = ToolCallIds.NewId();
        Assert.True(ToolCallIds.IsMistralId(fresh));
        Assert.Equal("abcdefghi", ToolCallIds.ToMistralId("abcdefghi"));
        var mapped = ToolCallIds.ToMistralId("call_abc123XYZ_long-openai-id");
        Assert.True(ToolCallIds.IsMistralId(mapped));
        Assert.Equal(mapped, ToolCallIds.ToMistralId("call_abc123XYZ_long-openai-id"));
        Assert.NotEqual(mapped, ToolCallIds.ToMistralId("call_abc123XYZ_long-openai-iD"));
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}", "llama", null)]
    [InlineData("[INST] <<SYS>>\n{{ system }}\n<</SYS>>", "llama", null)]
    [InlineData("{{ bos_token }}{{ ' [INST] ' + message['content'] + ' [/INST]' }}", "llama", MistralTemplateVersion.V1)]
    [InlineData("{{- \"[INST]\" + message[\"content\"] + \"[/INST]\" }}", "gpt2", MistralTemplateVersion.V3Tekken)]
    [InlineData("{{- '[SYSTEM_PROMPT]' + system + '[/SYSTEM_PROMPT]' }}[INST]", "llama", MistralTemplateVersion.V7)]
    [InlineData("{{- '[SYSTEM_PROMPT]' + system + '[/SYSTEM_PROMPT]' }}[INST]", "gpt2", MistralTemplateVersion.V7Tekken)]
    public void Detects_the_format_from_template_and_vocabulary(string? template, string? vocab, MistralTemplateVersion? expected)
    {
        Assert.Equal(expected, ChatTemplateDetector.Detect(template, vocab));
    }

    [Fact]
    public void Our_generated_models_carry_a_v3_template()
    {
        Assert.Equal(MistralTemplateVersion.V3, ChatTemplateDetector.Detect(MistralChatTemplate.Text, "llama"));
    }
}
