namespace SovereignInference.Engine.Chat;

/// <summary>
/// A piece of a rendered chat prompt: either one control token (by its text, e.g. "[INST]") or text that is
/// tokenized as plain text, so that user content can never smuggle in control tokens.
/// </summary>
/// <param name="Text">The control token's text, or the raw text (without the SentencePiece space).</param>
/// <param name="IsControl">Whether <paramref name="Text"/> names one control token.</param>
public readonly record struct PromptSegment(string Text, bool IsControl);
