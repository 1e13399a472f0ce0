using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Models;

namespace SovereignInference.Engine.Chat;

/// <summary>
/// Renders a conversation for a loaded model: Mistral formats (detected from the GGUF chat template and
/// vocabulary) by <see cref="MistralChatFormatter"/>, anything else by the backend's own template engine.
/// Shared by the HTTP and gRPC adapters.
/// </summary>
public static class ChatFormatter
{
    /// <summary>The Mistral format of a model, or null when its template is something else.</summary>
    public static MistralTemplateVersion? VersionOf(ModelEntry model) => ChoiceOf(model).Mistral;

    /// <summary>How the model renders chat: chosen at load, or (for an entry not loaded by the engine) from its GGUF.</summary>
    public static ChatTemplateChoice ChoiceOf(ModelEntry model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.ChatTemplate ?? ChatTemplates.Choose(null, model.Info?.ChatTemplate, model.Info?.VocabType);
    }

    /// <exception cref="EngineException">InvalidArgument ("messages" / "tools") when the conversation cannot be rendered.</exception>
    public static ChatPrompt Format(
        ModelEntry model,
        IReadOnlyList<ChatMessage> messages,
        IReadOnlyList<ToolDefinition>? tools,
        bool forceToolCall = false,
        string? forcedFunction = null,
        string? reasoningEffort = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(messages);
        var choice = ChoiceOf(model);
        if (!choice.CanChat)
        {
            throw EngineException.Invalid("model", ChatTemplates.NoChatMessage(model.Id, choice));
        }

        if (choice.Mistral is { } version)
        {
            return MistralChatFormatter.Format(messages, tools, version, forceToolCall, forcedFunction, reasoningEffort);
        }

        if (tools is { Count: > 0 } || forceToolCall)
        {
            throw EngineException.Invalid("tools", $"tool calling needs a Mistral chat template; the template of model '{model.Id}' ({choice.Describe()}) is not one; start the server with --chat-template {model.Id}=mistral-vN if the model is a Mistral model");
        }

        if (messages.Count == 0)
        {
            throw EngineException.Invalid("messages", "messages must contain at least one message");
        }

        var pairs = new List<(string Role, string Content)>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Role == ChatRole.Tool || m.ToolCalls is { Count: > 0 })
            {
                throw EngineException.Invalid("messages", $"messages[{i}] is a tool call or tool result, which the chat template of model '{model.Id}' cannot express");
            }

            var content = m.Content ?? "";
            InputChecks.RejectNul(content, "messages", $"messages[{i}].content");

            pairs.Add((m.Role.ToString().ToLowerInvariant(), content));
        }

        var text = choice.ChatMl
            ? ChatTemplates.RenderChatMl(pairs)
            : (model.Tokenizer as IChatTemplateApplier)?.ApplyChatTemplate(pairs, choice.Custom)
                ?? throw EngineException.Invalid("model", ChatTemplates.NoChatMessage(model.Id, ChatTemplates.Unknown(choice)));
        return new ChatPrompt([new PromptSegment(text, false)], null, false);
    }
}
