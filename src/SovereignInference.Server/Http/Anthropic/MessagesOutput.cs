using System.Text.Json;
using System.Text.Json.Nodes;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Generation;
using SovereignInference.Server.Http.OpenAi.Streaming;

namespace SovereignInference.Server.Http.Anthropic;

/// <summary>
/// The Anthropic Messages shapes for one reply: the message object (text and tool_use blocks, stop_reason, usage)
/// and, when streaming, message_start, content_block_start/delta/stop (text_delta, input_json_delta),
/// message_delta and message_stop.
/// </summary>
internal sealed class MessagesOutput(string id, string model, SseWriter? sse)
{
    private readonly Dictionary<int, int> _callBlocks = [];
    private int _blocks;
    private int? _textBlock;
    private int? _thinkingBlock;
    private int? _openBlock;

    public async Task StartAsync(int inputTokens)
    {
        if (sse is null)
        {
            return;
        }

        var message = Message([], null, null, new UsageInfo(inputTokens, 0, 0));
        await EmitAsync("message_start", new JsonObject { ["message"] = message });
    }

    public async Task StepAsync(ChatStep step)
    {
        if (sse is null)
        {
            return;
        }

        if (step.Reasoning.Length > 0)
        {
            if (_thinkingBlock is null)
            {
                await CloseOpenBlockAsync();
                _thinkingBlock = _blocks++;
                _openBlock = _thinkingBlock;
                await EmitAsync("content_block_start", new JsonObject { ["index"] = _thinkingBlock, ["content_block"] = new JsonObject { ["type"] = "thinking", ["thinking"] = "", ["signature"] = "" } });
            }

            await EmitAsync("content_block_delta", new JsonObject { ["index"] = _thinkingBlock, ["delta"] = new JsonObject { ["type"] = "thinking_delta", ["thinking"] = step.Reasoning } });
        }

        if (step.Content.Length > 0)
        {
            if (_textBlock is null)
            {
                await CloseOpenBlockAsync();
                _textBlock = _blocks++;
                _openBlock = _textBlock;
                await EmitAsync("content_block_start", new JsonObject { ["index"] = _textBlock, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } });
            }

            await EmitAsync("content_block_delta", new JsonObject { ["index"] = _textBlock, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = step.Content } });
        }

        foreach (var delta in step.ToolCalls)
        {
            if (!_callBlocks.TryGetValue(delta.Index, out var block))
            {
                await CloseOpenBlockAsync();
                block = _blocks++;
                _callBlocks[delta.Index] = block;
                _openBlock = block;
                await EmitAsync("content_block_start", new JsonObject
                {
                    ["index"] = block,
                    ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = delta.Id, ["name"] = delta.Name, ["input"] = new JsonObject() },
                });
            }

            if (delta.Arguments.Length > 0)
            {
                await EmitAsync("content_block_delta", new JsonObject { ["index"] = block, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = delta.Arguments } });
            }
        }
    }

    /// <summary>Ends the reply: the last events when streaming; the whole message either way.</summary>
    public async Task<JsonObject> FinishAsync(ChatChoiceState choice, string? matchedStop)
    {
        var (stopReason, stopSequence) = choice.FinishKind switch
        {
            ChatFinish.ToolCalls => ("tool_use", null),
            ChatFinish.Length => ("max_tokens", null),
            _ when matchedStop is not null => ("stop_sequence", matchedStop),
            _ => ("end_turn", (string?)null),
        };
        var usage = choice.Usage ?? new UsageInfo(0, 0, 0);
        if (sse is not null)
        {
            await CloseOpenBlockAsync();
            await EmitAsync("message_delta", new JsonObject
            {
                ["delta"] = new JsonObject { ["stop_reason"] = stopReason, ["stop_sequence"] = stopSequence },
                ["usage"] = new JsonObject { ["output_tokens"] = usage.CompletionTokens },
            });
            await EmitAsync("message_stop", new JsonObject());
        }

        var content = new JsonArray();
        if (choice.Reasoning.Length > 0)
        {
            // No signature: the thinking is the local model's own, not a signed Anthropic one.
            content.Add(new JsonObject { ["type"] = "thinking", ["thinking"] = choice.Reasoning, ["signature"] = "" });
        }

        if (choice.Content.Length > 0 || choice.Calls.Count == 0)
        {
            content.Add(new JsonObject { ["type"] = "text", ["text"] = choice.Content });
        }

        foreach (var call in choice.Calls)
        {
            content.Add(new JsonObject { ["type"] = "tool_use", ["id"] = call.Id, ["name"] = call.Name, ["input"] = Input(call.Arguments) });
        }

        return Message(content, stopReason, stopSequence, usage);
    }

    /// <summary>Tool arguments as the object Anthropic's "input" is; arguments that are not an object are wrapped.</summary>
    private static JsonObject Input(string arguments)
    {
        try
        {
            return JsonNode.Parse(arguments) is JsonObject input ? input : new JsonObject { ["value"] = JsonNode.Parse(arguments) };
        }
        catch (JsonException)
        {
            return new JsonObject { ["raw"] = arguments };
        }
    }

    private JsonObject Message(JsonArray content, string? stopReason, string? stopSequence, UsageInfo usage) => new()
    {
        ["id"] = id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = content,
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = stopSequence,
        ["usage"] = new JsonObject
        {
            ["input_tokens"] = usage.PromptTokens - usage.CachedPromptTokens,
            ["cache_read_input_tokens"] = usage.CachedPromptTokens,
            ["cache_creation_input_tokens"] = 0,
            ["output_tokens"] = usage.CompletionTokens,
        },
    };

    private async Task CloseOpenBlockAsync()
    {
        if (_openBlock is { } open)
        {
            await EmitAsync("content_block_stop", new JsonObject { ["index"] = open });
            _openBlock = null;
            if (_textBlock == open)
            {
                // A later text delta after a tool call opens a new text block.
                _textBlock = null;
            }
        }
    }

    private Task EmitAsync(string type, JsonObject payload) => sse!.WriteTypedEventAsync(type, payload);
}
