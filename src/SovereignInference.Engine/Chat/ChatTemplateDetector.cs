namespace SovereignInference.Engine.Chat;

/// <summary>
/// Picks the Mistral format from GGUF metadata: the chat template's text (the control tokens it writes and how)
/// and the vocabulary (tokenizer.ggml.model: "llama" is SentencePiece, "gpt2" is Tekken/BPE).
/// <list type="bullet">
/// <item>[MODEL_SETTINGS] → v15; [ARGS] with [CALL_ID] → v11, without → v13;</item>
/// <item>[SYSTEM_PROMPT] → v7 (Tekken on a BPE vocabulary);</item>
/// <item>"[INST] " … " [/INST]" (spaces inside) without tool tokens → v1 (Mistral-7B-Instruct v0.1/v0.2, Mixtral-8x7B);</item>
/// <item>tool tokens without call ids ("call_id"/"tool_call_id" never mentioned) on SentencePiece → v2;</item>
/// <item>any other "[INST]" template → v3 (Tekken on a BPE vocabulary or when it writes "[INST]" in double quotes).</item>
/// </list>
/// Llama-2 templates ("&lt;&lt;SYS&gt;&gt;") and templates without "[INST]" are left to the backend's template engine (null).
/// </summary>
public static class ChatTemplateDetector
{
    public static MistralTemplateVersion? Detect(string? chatTemplate, string? vocabModel)
    {
        if (string.IsNullOrEmpty(chatTemplate) || !Has(chatTemplate, "[INST]") || Has(chatTemplate, "<<SYS>>"))
        {
            return null;
        }

        var bpe = string.Equals(vocabModel, "gpt2", StringComparison.Ordinal);
        if (Has(chatTemplate, "[MODEL_SETTINGS]"))
        {
            return MistralTemplateVersion.V15;
        }

        if (Has(chatTemplate, "[ARGS]"))
        {
            return Has(chatTemplate, "[CALL_ID]") ? MistralTemplateVersion.V11 : MistralTemplateVersion.V13;
        }

        if (Has(chatTemplate, "[SYSTEM_PROMPT]"))
        {
            return bpe ? MistralTemplateVersion.V7Tekken : MistralTemplateVersion.V7;
        }

        var tools = Has(chatTemplate, "[TOOL_CALLS]") || Has(chatTemplate, "[AVAILABLE_TOOLS]");
        if (!tools && (Has(chatTemplate, " [/INST]") || Has(chatTemplate, " [INST]")))
        {
            return MistralTemplateVersion.V1;
        }

        if (tools && !bpe && !Has(chatTemplate, "call_id"))
        {
            return MistralTemplateVersion.V2;
        }

        return bpe || Has(chatTemplate, "\"[INST]\"") ? MistralTemplateVersion.V3Tekken : MistralTemplateVersion.V3;
    }

    private static bool Has(string text, string value) => text.Contains(value, StringComparison.Ordinal);
}
