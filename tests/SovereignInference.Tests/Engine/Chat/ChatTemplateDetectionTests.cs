using SovereignInference.Engine.Chat;

namespace SovereignInference.Tests.Engine.Chat;

/// <summary>
/// The format of real Mistral models from their GGUF's chat template and vocabulary type (tokenizer.ggml.model:
/// "llama" SentencePiece, "gpt2" Tekken). Templates are vendored in Chat/Reference/templates (see NOTICE.md): the
/// models' own Hugging Face templates where we have them, else the template mistral-common generates for the
/// tokenizer version the model ships (mistral-common's model table).
/// </summary>
public sealed class ChatTemplateDetectionTests
{
    [Theory]
    [InlineData("Mistral-7B-Instruct-v0.1", "mistral-7b-instruct-v0.2.jinja", "llama", MistralTemplateVersion.V1)]
    [InlineData("Mistral-7B-Instruct-v0.2", "mistral-7b-instruct-v0.2.jinja", "llama", MistralTemplateVersion.V1)]
    [InlineData("Mixtral-8x7B-Instruct-v0.1", "mistral-common-v1_spm.jinja", "llama", MistralTemplateVersion.V1)]
    [InlineData("mistral-small-2402 (v2, API only)", "mistral-common-v2_spm.jinja", "llama", MistralTemplateVersion.V2)]
    [InlineData("Mistral-7B-Instruct-v0.3", "mistral-common-v3_spm.jinja", "llama", MistralTemplateVersion.V3)]
    [InlineData("Mixtral-8x22B-Instruct-v0.1", "mistral-common-v3_spm.jinja", "llama", MistralTemplateVersion.V3)]
    [InlineData("Codestral-22B-v0.1", "mistral-common-v3_spm.jinja", "llama", MistralTemplateVersion.V3)]
    [InlineData("Mistral-Nemo-Instruct-2407", "mistralai-Mistral-Nemo-Instruct-2407.jinja", "gpt2", MistralTemplateVersion.V3Tekken)]
    [InlineData("Mistral-Nemo-Instruct-2407 (vocabulary unknown)", "mistralai-Mistral-Nemo-Instruct-2407.jinja", null, MistralTemplateVersion.V3Tekken)]
    [InlineData("Mistral-Large-Instruct-2407", "mistralai-Mistral-Large-Instruct-2407.jinja", "llama", MistralTemplateVersion.V3)]
    [InlineData("Mistral-Large-Instruct-2407 (generated v3)", "mistral-common-v3_spm.jinja", "llama", MistralTemplateVersion.V3)]
    [InlineData("Mistral-Large-Instruct-2411", "mistralai-Mistral-Large-Instruct-2411.jinja", "llama", MistralTemplateVersion.V7)]
    [InlineData("Mistral-Large-Instruct-2411 (generated v7)", "mistral-common-v7_spm.jinja", "llama", MistralTemplateVersion.V7)]
    [InlineData("Mistral-Small-3.1-24B-Instruct-2503", "mistralai-Mistral-Small-3.1-24B-Instruct-2503.jinja", "gpt2", MistralTemplateVersion.V7Tekken)]
    [InlineData("Mistral-Small-3.2-24B-Instruct-2506", "mistral-common-v11.jinja", "gpt2", MistralTemplateVersion.V11)]
    [InlineData("Devstral-Small-2507 (Unsloth's template, as llama.cpp keeps it)", "unsloth-mistral-Devstral-Small-2507.jinja", "gpt2", MistralTemplateVersion.V13)]
    [InlineData("Magistral-Small-2507 (thinking, v11)", "mistral-common-v11_think.jinja", "gpt2", MistralTemplateVersion.V11)]
    [InlineData("Magistral-Small-2509", "mistral-common-v13_think.jinja", "gpt2", MistralTemplateVersion.V13)]
    [InlineData("Devstral-2-2512", "mistral-common-v13.jinja", "gpt2", MistralTemplateVersion.V13)]
    [InlineData("Ministral-3-Instruct-2512", "mistral-common-v15.jinja", "gpt2", MistralTemplateVersion.V15)]
    [InlineData("Ministral-3-Reasoning-2512", "mistral-common-v15_think.jinja", "gpt2", MistralTemplateVersion.V15)]
    public void Detects_the_format_of_a_real_template(string model, string file, string? vocab, MistralTemplateVersion expected)
    {
        var template = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Engine", "Chat", "Reference", "templates", file));

        Assert.True(ChatTemplateDetector.Detect(template, vocab) == expected, $"{model}: {ChatTemplateDetector.Detect(template, vocab)}");
    }

    [Theory]
    [InlineData("mistral-common-v1.jinja", MistralTemplateVersion.V1)]
    [InlineData("mistral-common-v3.jinja", MistralTemplateVersion.V3Tekken)]
    [InlineData("mistral-common-v7.jinja", MistralTemplateVersion.V7Tekken)]
    public void Tekken_templates_on_a_bpe_vocabulary_are_tekken(string file, MistralTemplateVersion expected)
    {
        var template = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Engine", "Chat", "Reference", "templates", file));

        Assert.Equal(expected, ChatTemplateDetector.Detect(template, "gpt2"));
    }
}
