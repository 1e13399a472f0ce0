namespace SovereignInference.Engine.Chat;

/// <summary>
/// Picks the Mistral format from GGUF metadata, following llama.cpp's llm_chat_detect_template:
/// "[SYSTEM_PROMPT]" in the template means v7; "[INST]" (without Llama-2's "&lt;&lt;SYS&gt;&gt;") means v1 when
/// written " [INST]", Tekken when written "\"[INST]\"" or when the vocabulary is BPE (tokenizer.ggml.model gpt2),
/// otherwise v3. Anything else is left to the backend's template engine (null).
/// </summary>
public static class ChatTemplateDetector
{
    public static MistralTemplateVersion? Detect(string? chatTemplate, string? vocabModel)
    {
        if (string.IsNullOrEmpty(chatTemplate))
        {
            return null;
        }

        var bpe = string.Equals(vocabModel, "gpt2", StringComparison.Ordinal);
        if (chatTemplate.Contains("[SYSTEM_PROMPT]", StringComparison.Ordinal))
        {
            return bpe ? MistralTemplateVersion.V7Tekken : MistralTemplateVersion.V7;
        }

        if (!chatTemplate.Contains("[INST]", StringComparison.Ordinal) || chatTemplate.Contains("<<SYS>>", StringComparison.Ordinal))
        {
            return null;
        }

        if (chatTemplate.Contains(" [INST]", StringComparison.Ordinal))
        {
            return MistralTemplateVersion.V1;
        }

        return bpe || chatTemplate.Contains("\"[INST]\"", StringComparison.Ordinal) ? MistralTemplateVersion.V3Tekken : MistralTemplateVersion.V3;
    }
}
