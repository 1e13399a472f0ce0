namespace SovereignInference.Engine.Chat;

/// <summary>
/// The chat-template names <c>--chat-template</c> accepts and how a model's template is chosen:
/// the setting (a name, or a file holding a Jinja template) wins over the GGUF's own template.
/// </summary>
public static class ChatTemplates
{
    /// <summary>Mistral format names, as <c>--chat-template</c> takes them.</summary>
    private static readonly (string Name, MistralTemplateVersion Version)[] MistralNames =
    [
        ("mistral-v1", MistralTemplateVersion.V1),
        ("mistral-v2", MistralTemplateVersion.V2),
        ("mistral-v3", MistralTemplateVersion.V3),
        ("mistral-v3-tekken", MistralTemplateVersion.V3Tekken),
        ("mistral-v7", MistralTemplateVersion.V7),
        ("mistral-v7-tekken", MistralTemplateVersion.V7Tekken),
        ("mistral-v11", MistralTemplateVersion.V11),
        ("mistral-v13", MistralTemplateVersion.V13),
        ("mistral-v15", MistralTemplateVersion.V15),
            ];

    /// <summary>Every name <c>--chat-template</c> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. MistralNames.Select(n => n.Name), "chatml"];

    /// <summary>The <c>--chat-template</c> name of a Mistral format.</summary>
    public static string NameOf(MistralTemplateVersion version) => MistralNames.First(n => n.Version == version).Name;

    /// <summary>
    /// Chooses how a model renders chat. <paramref name="setting"/> is the configured NAME or FILE (null: use the
    /// GGUF's template); <paramref name="ggufTemplate"/> and <paramref name="vocabModel"/> come from the GGUF.
    /// </summary>
    /// <exception cref="InvalidOperationException">The setting is neither a known name nor a readable file.</exception>
    /// <param name="setting">The configured NAME or FILE, or null.</param>
    /// <param name="ggufTemplate">The GGUF's tokenizer.chat_template, or null.</param>
    /// <param name="vocabModel">The GGUF's tokenizer.ggml.model ("llama", "gpt2", …).</param>
    /// <param name="hasControlToken">Whether the vocabulary has a control token of that name; used when the GGUF has no template.</param>
    public static ChatTemplateChoice Choose(string? setting, string? ggufTemplate, string? vocabModel, Func<string, bool>? hasControlToken = null)
    {
        if (!string.IsNullOrWhiteSpace(setting))
        {
            var name = setting.Trim();
            var source = $"--chat-template {name}";
            foreach (var (n, version) in MistralNames)
            {
                if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
                {
                    return new ChatTemplateChoice { Mistral = version, Source = source };
                }
            }

            if (string.Equals(name, "chatml", StringComparison.OrdinalIgnoreCase))
            {
                return new ChatTemplateChoice { ChatMl = true, Source = source };
            }

            if (!File.Exists(name))
            {
                throw new InvalidOperationException($"--chat-template '{name}' is neither a template name ({string.Join(", ", Names)}) nor an existing file");
            }

            return FromText(File.ReadAllText(name), vocabModel, $"the chat template file {name}");
        }

        if (string.IsNullOrEmpty(ggufTemplate) && hasControlToken is not null && FromControlTokens(hasControlToken, vocabModel) is { } inferred)
        {
            return new ChatTemplateChoice { Mistral = inferred, Source = "the vocabulary's control tokens (the GGUF has no chat template)", Inferred = true };
        }

        if (string.IsNullOrEmpty(ggufTemplate))
        {
            return new ChatTemplateChoice
            {
                Source = "the GGUF",
                Problem = "its GGUF has no chat template (tokenizer.chat_template)",
            };
        }

        return FromText(ggufTemplate, vocabModel, "the GGUF's chat template");
    }

    /// <summary>The Names of the control tokens <see cref="FromControlTokens"/> looks for.</summary>
    public static IReadOnlyList<string> MistralControlTokens { get; } =
        ["[INST]", "[TOOL_CALLS]", "[SYSTEM_PROMPT]", "[ARGS]", "[CALL_ID]", "[THINK]", "[MODEL_SETTINGS]"];

    /// <summary>
    /// A Mistral format guessed from the control tokens a vocabulary has, for GGUFs without a template: [INST] as a
    /// control token means v3 or later ([TOOL_CALLS]); [SYSTEM_PROMPT] v7; [ARGS] v11 ([THINK] too: v13);
    /// [MODEL_SETTINGS] v15; Tekken when the vocabulary is BPE. Null when [INST] is no control token (v1 writes it as text).
    /// </summary>
    public static MistralTemplateVersion? FromControlTokens(Func<string, bool> has, string? vocabModel)
    {
        ArgumentNullException.ThrowIfNull(has);
        if (!has("[INST]"))
        {
            return null;
        }

        var bpe = string.Equals(vocabModel, "gpt2", StringComparison.Ordinal);
        return has("[MODEL_SETTINGS]") ? MistralTemplateVersion.V15
            : has("[ARGS]") ? (has("[THINK]") ? MistralTemplateVersion.V13 : MistralTemplateVersion.V11)
            : has("[SYSTEM_PROMPT]") ? (bpe ? MistralTemplateVersion.V7Tekken : MistralTemplateVersion.V7)
            : bpe ? MistralTemplateVersion.V3Tekken : MistralTemplateVersion.V3;
    }

    private static ChatTemplateChoice FromText(string template, string? vocabModel, string source) =>
        ChatTemplateDetector.Detect(template, vocabModel) is { } version
            ? new ChatTemplateChoice { Mistral = version, Source = source }
            : new ChatTemplateChoice { Custom = template, Source = source };

    /// <summary>The choice, marked as unusable because llama.cpp's template engine does not know its template.</summary>
    public static ChatTemplateChoice Unknown(ChatTemplateChoice choice)
    {
        ArgumentNullException.ThrowIfNull(choice);
        return choice with { Problem = $"{choice.Source} is not a Mistral format and llama.cpp's template engine does not know it" };
    }

    /// <summary>The 400 message for a model whose template cannot serve chat: cause and fix.</summary>
    public static string NoChatMessage(string modelId, ChatTemplateChoice choice)
    {
        ArgumentNullException.ThrowIfNull(choice);
        return $"model '{modelId}' cannot serve chat: {choice.Problem}. Start the server with --chat-template {modelId}=NAME|FILE "
            + $"(names: {string.Join(", ", Names)}; or a file holding a Jinja chat template), "
            + "or send an already formatted prompt to /v1/completions";
    }

    /// <summary>
    /// Renders ChatML, as llama.cpp's "chatml" template does, ending with the opened assistant turn.
    /// </summary>
    internal static string RenderChatMl(IReadOnlyList<(string Role, string Content)> messages)
    {
        var text = new System.Text.StringBuilder();
        foreach (var (role, content) in messages)
        {
            text.Append("<|im_start|>").Append(role).Append('\n').Append(content).Append("<|im_end|>\n");
        }

        return text.Append("<|im_start|>assistant\n").ToString();
    }
}
