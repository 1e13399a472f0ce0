namespace SovereignInference.Engine.Chat;

/// <summary>
/// Mistral's instruct formats as mistral-common renders them (its TokenizerVersion v1 … v15). The SentencePiece
/// versions put a space in front of every text segment (SentencePiece encodes each segment with a leading "▁");
/// the Tekken versions do not. See docs/http-api.md for which models use which.
/// </summary>
public enum MistralTemplateVersion
{
    /// <summary>Mistral-7B-Instruct v0.1/v0.2, Mixtral-8x7B-Instruct: "[INST]" is plain text, system prompt in the first user turn, no tools.</summary>
    V1,

    /// <summary>Mixtral-8x22B-Instruct, Codestral-22B v0.1: control tokens, tools before the last user message, calls without ids, results as [{"name", "content"}].</summary>
    V2,

    /// <summary>Mistral-7B-Instruct v0.3 and friends: control tokens, system prompt in the last user turn, tools, call ids.</summary>
    V3,

    /// <summary>V3 on the Tekken (tiktoken) vocabulary, e.g. Mistral-Nemo: as V3 without the segment spaces.</summary>
    V3Tekken,

    /// <summary>Mistral-Large-2411: system prompts between [SYSTEM_PROMPT] and [/SYSTEM_PROMPT] where they stand.</summary>
    V7,

    /// <summary>V7 on the Tekken vocabulary (Mistral-Small-3.0/3.1, Pixtral-Large).</summary>
    V7Tekken,

    /// <summary>Mistral-Small-3.2, Devstral-Small-1.1, Magistral-Small/Medium-1.1: calls as [TOOL_CALLS]name[CALL_ID]id[ARGS]{…}.</summary>
    V11,

    /// <summary>Magistral-1.2, Devstral-2: tools before the first user message, calls and results without ids, [THINK] chunks.</summary>
    V13,

    /// <summary>Ministral-3 and later: V13 plus [MODEL_SETTINGS] (reasoning effort) after the tools.</summary>
    V15,
}
