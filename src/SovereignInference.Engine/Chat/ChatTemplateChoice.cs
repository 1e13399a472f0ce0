namespace SovereignInference.Engine.Chat;

/// <summary>
/// How one model's conversations become prompts, decided once at load from <c>--chat-template</c> (a name or a
/// file) or else from the GGUF's <c>tokenizer.chat_template</c>: a Mistral format rendered by
/// <see cref="MistralChatFormatter"/>, ChatML, or a Jinja template handed to llama.cpp's template engine.
/// When none of these can serve chat, <see cref="Problem"/> says why and how to fix it.
/// </summary>
public sealed record ChatTemplateChoice
{
    /// <summary>The Mistral format, or null.</summary>
    public MistralTemplateVersion? Mistral { get; init; }

    /// <summary>Render ChatML (<c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>).</summary>
    public bool ChatMl { get; init; }

    /// <summary>A template text for llama.cpp's llama_chat_apply_template, or null.</summary>
    public string? Custom { get; init; }

    /// <summary>Where the choice came from, for messages ("the GGUF's chat template", "--chat-template mistral-v7").</summary>
    public required string Source { get; init; }

    /// <summary>The format was guessed from the vocabulary (no template): chat works, but a warning says to confirm it.</summary>
    public bool Inferred { get; init; }

    /// <summary>Why chat cannot be served with this choice, naming the fix; null when it can.</summary>
    public string? Problem { get; init; }

    /// <summary>Whether conversations can be rendered.</summary>
    public bool CanChat => Problem is null;

    /// <summary>The name of the format for messages and /apply-template callers.</summary>
    public string Describe() => Mistral is { } v ? ChatTemplates.NameOf(v) : ChatMl ? "chatml" : Custom is not null ? "custom" : "none";
}
