using System.Text;
using SovereignInference.Engine.Abstractions;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// A conversation rendered for one model: its segments (control tokens and plain text), the same as one string
/// (<see cref="Text"/>, what mistral-common's tokenizer decodes back to), and how to turn it into token ids.
/// </summary>
public sealed class ChatPrompt
{
    internal ChatPrompt(IReadOnlyList<PromptSegment> segments, MistralTemplateVersion? version, bool toolCallsOpened)
    {
        Segments = segments;
        Version = version;
        ToolCallsOpened = toolCallsOpened;
        var text = new StringBuilder();
        var spaced = version is { } v && MistralChatFormatter.IsSentencePiece(v);
        foreach (var segment in segments)
        {
            if (!segment.IsControl && spaced && segment.Text.Length > 0)
            {
                // SentencePiece encodes every text segment with a leading "▁".
                text.Append(' ');
            }

            text.Append(segment.Text);
        }

        Text = text.ToString();
    }

    /// <summary>The segments in order.</summary>
    public IReadOnlyList<PromptSegment> Segments { get; }

    /// <summary>The Mistral format used, or null when the backend's own template engine rendered the prompt.</summary>
    public MistralTemplateVersion? Version { get; }

    /// <summary>The prompt ends in [TOOL_CALLS]: the output is the tool-call JSON from its first token.</summary>
    public bool ToolCallsOpened { get; }

    /// <summary>The whole prompt as text.</summary>
    public string Text { get; }

    /// <summary>
    /// Token ids: control segments become their one control token, text segments are tokenized as plain text
    /// (control-token text inside user content stays text). Prompts from the backend's template are tokenized
    /// whole with special tokens parsed, as llama-server does.
    /// </summary>
    public int[] ToTokens(ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (Version is null)
        {
            return tokenizer.Tokenize(Text, tokenizer.AddBosByDefault && !Text.StartsWith(BosText(tokenizer), StringComparison.Ordinal), parseSpecial: true);
        }

        var tokens = new List<int>();
        foreach (var segment in Segments)
        {
            if (segment.IsControl)
            {
                tokens.AddRange(segment.Text switch
                {
                    "<s>" when tokenizer.BosToken >= 0 => [tokenizer.BosToken],
                    "</s>" when tokenizer.EosToken >= 0 => [tokenizer.EosToken],
                    _ => tokenizer.Tokenize(segment.Text, addBos: false, parseSpecial: true),
                });
            }
            else if (segment.Text.Length > 0)
            {
                tokens.AddRange(tokenizer.Tokenize(segment.Text, addBos: false, parseSpecial: false));
            }
        }

        return [.. tokens];
    }

    private static string BosText(ITokenizer tokenizer) => tokenizer.BosToken >= 0 ? tokenizer.GetPieceText(tokenizer.BosToken) is { Length: > 0 } t ? t : "\0" : "\0";
}
