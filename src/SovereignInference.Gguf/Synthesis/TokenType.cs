namespace SovereignInference.Gguf;

/// <summary>llama.cpp token attributes stored in <c>tokenizer.ggml.token_type</c> (<c>enum llama_token_type</c>).</summary>
public enum TokenType
{
    /// <summary>Ordinary text piece.</summary>
    Normal = 1,
    /// <summary>The unknown token.</summary>
    Unknown = 2,
    /// <summary>Control token such as <c>&lt;s&gt;</c> or <c>[INST]</c> (not rendered as text).</summary>
    Control = 3,
    /// <summary>User-defined token matched verbatim.</summary>
    UserDefined = 4,
    /// <summary>Unused slot.</summary>
    Unused = 5,
    /// <summary>Byte-fallback token <c>&lt;0xNN&gt;</c>.</summary>
    Byte = 6,
}
