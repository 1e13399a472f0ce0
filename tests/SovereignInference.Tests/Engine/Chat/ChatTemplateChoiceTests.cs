using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Gguf;
using SovereignInference.Server.Cli;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Chat;

/// <summary>How a model's chat template is chosen (--chat-template NAME|FILE, else the GGUF's) and the reply's first space.</summary>
public sealed class ChatTemplateChoiceTests
{
    [Theory]
    [InlineData("mistral-v1", MistralTemplateVersion.V1)]
    [InlineData("mistral-v3", MistralTemplateVersion.V3)]
    [InlineData("Mistral-V3-Tekken", MistralTemplateVersion.V3Tekken)]
    [InlineData("mistral-v7", MistralTemplateVersion.V7)]
    [InlineData("mistral-v7-tekken", MistralTemplateVersion.V7Tekken)]
    public void A_name_wins_over_the_gguf_template(string name, MistralTemplateVersion expected)
    {
        var choice = ChatTemplates.Choose(name, MistralChatTemplate.Text, "llama");

        Assert.Equal(expected, choice.Mistral);
        Assert.True(choice.CanChat);
        Assert.Equal(name.ToLowerInvariant(), choice.Describe());
    }

    [Fact]
    public void Every_name_resolves_and_chatml_is_one()
    {
        foreach (var name in ChatTemplates.Names)
        {
            Assert.True(ChatTemplates.Choose(name, null, null).CanChat, name);
        }

        Assert.True(ChatTemplates.Choose("chatml", null, null).ChatMl);
    }

    [Theory]
    [InlineData("", "llama", null)]
    [InlineData("[INST]", "llama", MistralTemplateVersion.V3)]
    [InlineData("[INST] [TOOL_CALLS]", "gpt2", MistralTemplateVersion.V3Tekken)]
    [InlineData("[INST] [TOOL_CALLS] [SYSTEM_PROMPT]", "llama", MistralTemplateVersion.V7)]
    [InlineData("[INST] [TOOL_CALLS] [SYSTEM_PROMPT]", "gpt2", MistralTemplateVersion.V7Tekken)]
    [InlineData("[INST] [SYSTEM_PROMPT] [ARGS] [CALL_ID]", "gpt2", MistralTemplateVersion.V11)]
    [InlineData("[INST] [SYSTEM_PROMPT] [ARGS] [CALL_ID] [THINK]", "gpt2", MistralTemplateVersion.V13)]
    [InlineData("[INST] [SYSTEM_PROMPT] [ARGS] [THINK] [MODEL_SETTINGS]", "gpt2", MistralTemplateVersion.V15)]
    public void Without_a_template_the_control_tokens_of_the_vocabulary_decide(string controls, string vocab, MistralTemplateVersion? expected)
    {
        var present = controls.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();

        var choice = ChatTemplates.Choose(null, null, vocab, present.Contains);

        Assert.Equal(expected, choice.Mistral);
        Assert.Equal(expected is not null, choice.CanChat);
        Assert.Equal(expected is not null, choice.Inferred);
    }

    [Fact]
    public void No_template_in_the_gguf_names_the_cause_and_the_fix()
    {
        var choice = ChatTemplates.Choose(null, null, "llama");

        Assert.False(choice.CanChat);
        var message = ChatTemplates.NoChatMessage("m", choice);
        Assert.Contains("no chat template", message, StringComparison.Ordinal);
        Assert.Contains("--chat-template m=NAME|FILE", message, StringComparison.Ordinal);
        Assert.Contains("mistral-v7-tekken", message, StringComparison.Ordinal);
        Assert.Contains("/v1/completions", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_template_file_is_detected_like_a_gguf_template_and_an_unknown_name_is_refused()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "t.jinja");
        File.WriteAllText(file, "{{- '[SYSTEM_PROMPT]' + system + '[/SYSTEM_PROMPT]' }}[INST]");

        Assert.Equal(MistralTemplateVersion.V7Tekken, ChatTemplates.Choose(file, null, "gpt2").Mistral);
        File.WriteAllText(file, "{% for m in messages %}{{ m.content }}{% endfor %}");
        Assert.Equal("custom", ChatTemplates.Choose(file, null, "llama").Describe());
        var ex = Assert.Throws<InvalidOperationException>(() => ChatTemplates.Choose("mistral-v99", null, null));
        Assert.Contains("chatml", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mistral-v3", "Sovereign:ChatTemplate", "mistral-v3")]
    [InlineData("demo=chatml", "Sovereign:ChatTemplates:demo", "chatml")]
    [InlineData("my-model=/tmp/x.jinja", "Sovereign:ChatTemplates:my-model", "/tmp/x.jinja")]
    public void The_command_line_option_sets_the_global_or_per_model_key(string value, string key, string setting)
    {
        var pair = ServeCommand.ChatTemplateSetting(value);

        Assert.Equal(key, pair.Key);
        Assert.Equal(setting, pair.Value);
    }

    [Fact]
    public void The_dummy_prefix_space_of_the_first_piece_is_dropped_once()
    {
        var assembler = new ChatStreamAssembler(stripLeadingSpace: true);

        var first = assembler.Apply(Update(" Hello"));
        var second = assembler.Apply(Update(" world"));

        Assert.Equal("Hello", first.Content);
        Assert.Equal(" world", second.Content);
        Assert.Equal("Hello world", assembler.Content);
    }

    [Fact]
    public void Tekken_replies_keep_their_first_space()
    {
        var assembler = new ChatStreamAssembler(stripLeadingSpace: false);

        Assert.Equal(" Hi", assembler.Apply(Update(" Hi")).Content);
    }

    private static GenerationUpdate Update(string text) => new() { Text = text, Tokens = [] };
}
