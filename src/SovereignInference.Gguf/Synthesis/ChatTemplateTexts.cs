using System.Reflection;

namespace SovereignInference.Gguf;

/// <summary>
/// Chat templates to embed in generated models by name (<c>sovereign make-model --chat-template NAME</c>): the
/// templates mistral-common generates for each Mistral tokenizer version (Apache-2.0, see
/// Synthesis/ChatTemplates/NOTICE.md) and ChatML, with the control tokens each Mistral version needs in the vocabulary.
/// </summary>
public static class ChatTemplateTexts
{
    private static readonly string[] V7Tokens = ["[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]"];
    private static readonly string[] V11Tokens = [.. V7Tokens, "[ARGS]", "[CALL_ID]"];
    private static readonly string[] V13Tokens = [.. V11Tokens, "[THINK]", "[/THINK]"];

    private static readonly Dictionary<string, (string Resource, string[] ControlTokens)> Mistral = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mistral-v1"] = ("v1_spm", []),
        ["mistral-v2"] = ("v2_spm", []),
        ["mistral-v3"] = ("v3_spm", []),
        ["mistral-v3-tekken"] = ("v3", []),
        ["mistral-v7"] = ("v7_spm", V7Tokens),
        ["mistral-v7-tekken"] = ("v7", V7Tokens),
        ["mistral-v11"] = ("v11", V11Tokens),
        ["mistral-v13"] = ("v13_think", V13Tokens),
        ["mistral-v15"] = ("v15_think", [.. V13Tokens, "[MODEL_SETTINGS]", "[/MODEL_SETTINGS]"]),
    };

    /// <summary>ChatML, as llama.cpp renders it.</summary>
    public const string ChatMl = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Every name, Mistral versions then chatml.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Mistral.Keys, "chatml"];

    /// <summary>The template text and extra control tokens of a name, or of a Jinja file; null when it is neither.</summary>
    public static (string Template, IReadOnlyList<string> ControlTokens)? Resolve(string nameOrFile)
    {
        ArgumentNullException.ThrowIfNull(nameOrFile);
        if (Mistral.TryGetValue(nameOrFile, out var entry))
        {
            using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"SovereignInference.Gguf.ChatTemplates.mistral-common-{entry.Resource}.jinja")
                ?? throw new InvalidOperationException($"missing embedded template {entry.Resource}");
            using var reader = new StreamReader(stream);
            return (reader.ReadToEnd(), entry.ControlTokens);
        }

        if (string.Equals(nameOrFile, "chatml", StringComparison.OrdinalIgnoreCase))
        {
            return (ChatMl, []);
        }

        return File.Exists(nameOrFile) ? (File.ReadAllText(nameOrFile), []) : null;
    }
}
