namespace SovereignInference.Engine.Abstractions;

/// <summary>
/// A backend's own chat template engine (llama.cpp's llama_chat_apply_template), used for models whose
/// template is not one of the Mistral formats the engine renders itself. Implemented by tokenizers that can.
/// </summary>
public interface IChatTemplateApplier
{
    /// <summary>
    /// Renders (role, content) pairs with <paramref name="template"/> (null: the model's embedded template) and
    /// opens the assistant turn. Returns null when the backend does not recognise the template (or there is none).
    /// Inputs must be validated by the caller (no NUL characters).
    /// </summary>
    string? ApplyChatTemplate(IReadOnlyList<(string Role, string Content)> messages, string? template = null);
}
