namespace SovereignInference.Engine.Chat;

/// <summary>
/// Mistral's instruct formats as mistral-common renders them. The SentencePiece versions put a space in front of
/// every text segment (SentencePiece encodes each segment with a leading "▁"); the Tekken versions do not.
/// </summary>
public enum MistralTemplateVersion
{
    /// <summary>Mistral-7B-Instruct v0.1/v0.2, Mixtral-8x7B: "[INST]" is plain text, system prompt in the first user turn, no tools.</summary>
    V1,

    /// <summary>Mistral-7B-Instruct v0.3 and friends: control tokens, system prompt in the last user turn, tools.</summary>
    V3,

    /// <summary>V3 on the Tekken (tiktoken) vocabulary, e.g. Mistral-Nemo: as V3 without the segment spaces.</summary>
    V3Tekken,

    /// <summary>Mistral-Large-2411: system prompts between [SYSTEM_PROMPT] and [/SYSTEM_PROMPT] where they stand.</summary>
    V7,

    /// <summary>V7 on the Tekken vocabulary (Mistral-Small-3.x).</summary>
    V7Tekken,
}
