using System.Text.Json.Nodes;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Generation;
using SovereignInference.Server.Http.OpenAi.Streaming;

namespace SovereignInference.Server.Http.OpenAi.Responses;

/// <summary>
/// The Responses API's shapes for one reply: the response object, its output items (a message with output_text,
/// function_call items) and, when streaming, the event sequence — response.created, output_item.added,
/// content_part.added, output_text.delta … done, function_call_arguments.delta … done, output_item.done,
/// response.completed (or response.incomplete) — each with its sequence_number.
/// </summary>
internal sealed class ResponseOutput(string id, long createdAt, ResponsesRequest request, SseWriter? sse)
{
    private readonly JsonArray _output = [];
    private readonly Dictionary<int, (int OutputIndex, string ItemId)> _calls = [];
    private int _sequence;
    private (int OutputIndex, string ItemId)? _message;
    private (int OutputIndex, string ItemId)? _reasoning;
    private bool _reasoningClosed;
    private string _text = "";
    private string _thinking = "";

    public string Id => id;

    public async Task StartAsync()
    {
        await EmitAsync("response.created", new JsonObject { ["response"] = Response("in_progress", null) });
        await EmitAsync("response.in_progress", new JsonObject { ["response"] = Response("in_progress", null) });
    }

    /// <summary>Streams one step of the reply (text, or tool-call deltas).</summary>
    public async Task StepAsync(ChatStep step)
    {
        if (step.Reasoning.Length > 0 && !_reasoningClosed)
        {
            if (_reasoning is null)
            {
                _reasoning = (_output.Count, UsageTotals.NewId("rs_"));
                _output.Add(ReasoningItem(_reasoning.Value.ItemId, ""));
                await EmitAsync("response.output_item.added", new JsonObject { ["output_index"] = _reasoning.Value.OutputIndex, ["item"] = ReasoningItem(_reasoning.Value.ItemId, null) });
            }

            _thinking += step.Reasoning;
            await EmitAsync("response.reasoning_text.delta", new JsonObject
            {
                ["item_id"] = _reasoning.Value.ItemId,
                ["output_index"] = _reasoning.Value.OutputIndex,
                ["content_index"] = 0,
                ["delta"] = step.Reasoning,
            });
        }

        if (step.Content.Length > 0 || step.ToolCalls.Count > 0)
        {
            await CloseReasoningAsync();
        }

        if (step.Content.Length > 0)
        {
            if (_message is null)
            {
                _message = (_output.Count, UsageTotals.NewId("msg_"));
                var item = MessageItem(_message.Value.ItemId, "", "in_progress");
                _output.Add(item.DeepClone());
                await EmitAsync("response.output_item.added", new JsonObject { ["output_index"] = _message.Value.OutputIndex, ["item"] = MessageItem(_message.Value.ItemId, "", "in_progress", withPart: false) });
                await EmitAsync("response.content_part.added", PartEvent(TextPart("")));
            }

            _text += step.Content;
            await EmitAsync("response.output_text.delta", new JsonObject
            {
                ["item_id"] = _message.Value.ItemId,
                ["output_index"] = _message.Value.OutputIndex,
                ["content_index"] = 0,
                ["delta"] = step.Content,
                ["logprobs"] = new JsonArray(),
            });
        }

        foreach (var delta in step.ToolCalls)
        {
            if (!_calls.TryGetValue(delta.Index, out var call))
            {
                call = (_output.Count, UsageTotals.NewId("fc_"));
                _calls[delta.Index] = call;
                var item = FunctionItem(call.ItemId, delta.Id ?? "", delta.Name ?? "", "", "in_progress");
                _output.Add(item.DeepClone());
                await EmitAsync("response.output_item.added", new JsonObject { ["output_index"] = call.OutputIndex, ["item"] = item });
            }

            if (delta.Arguments.Length > 0)
            {
                await EmitAsync("response.function_call_arguments.delta", new JsonObject
                {
                    ["item_id"] = call.ItemId,
                    ["output_index"] = call.OutputIndex,
                    ["delta"] = delta.Arguments,
                });
            }
        }
    }

    /// <summary>Closes the output items from the finished reply and sends the final response event; returns the response.</summary>
    public async Task<JsonObject> FinishAsync(ChatChoiceState choice)
    {
        var calls = choice.Calls;
        if (sse is not null)
        {
            await CloseReasoningAsync();
            if (_message is { } message)
            {
                await EmitAsync("response.output_text.done", new JsonObject
                {
                    ["item_id"] = message.ItemId,
                    ["output_index"] = message.OutputIndex,
                    ["content_index"] = 0,
                    ["text"] = _text,
                    ["logprobs"] = new JsonArray(),
                });
                await EmitAsync("response.content_part.done", PartEvent(TextPart(_text)));
                _output[message.OutputIndex] = MessageItem(message.ItemId, _text, "completed");
                await EmitAsync("response.output_item.done", new JsonObject { ["output_index"] = message.OutputIndex, ["item"] = _output[message.OutputIndex]!.DeepClone() });
            }

            for (var i = 0; i < calls.Count; i++)
            {
                if (!_calls.TryGetValue(i, out var call))
                {
                    continue;
                }

                var done = FunctionItem(call.ItemId, calls[i].Id, calls[i].Name, calls[i].Arguments, "completed");
                await EmitAsync("response.function_call_arguments.done", new JsonObject
                {
                    ["item_id"] = call.ItemId,
                    ["output_index"] = call.OutputIndex,
                    ["name"] = calls[i].Name,
                    ["arguments"] = calls[i].Arguments,
                });
                _output[call.OutputIndex] = done;
                await EmitAsync("response.output_item.done", new JsonObject { ["output_index"] = call.OutputIndex, ["item"] = done.DeepClone() });
            }
        }
        else
        {
            if (choice.Reasoning.Length > 0)
            {
                _output.Add(ReasoningItem(UsageTotals.NewId("rs_"), choice.Reasoning));
            }

            if (calls.Count == 0 || choice.Content.Length > 0)
            {
                _output.Add(MessageItem(UsageTotals.NewId("msg_"), choice.Content, "completed"));
            }

            foreach (var call in calls)
            {
                _output.Add(FunctionItem(UsageTotals.NewId("fc_"), call.Id, call.Name, call.Arguments, "completed"));
            }
        }

        var incomplete = choice.FinishKind == ChatFinish.Length;
        var response = Response(incomplete ? "incomplete" : "completed", choice.Usage);
        if (incomplete)
        {
            response["incomplete_details"] = new JsonObject { ["reason"] = "max_output_tokens" };
        }

        await EmitAsync(incomplete ? "response.incomplete" : "response.completed", new JsonObject { ["response"] = response.DeepClone() });
        return response;
    }

    /// <summary>The chat messages this reply adds to the conversation (for previous_response_id).</summary>
    public static JsonObject AssistantMessage(ChatChoiceState choice) => choice.Calls.Count == 0
        ? new JsonObject { ["role"] = "assistant", ["content"] = choice.Content }
        : new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = null,
            ["tool_calls"] = new JsonArray([.. choice.Calls.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
            })]),
        };

    private JsonObject Response(string status, UsageInfo? usage)
    {
        var chat = request.Chat.Common;
        var response = new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = createdAt,
            ["status"] = status,
            ["error"] = null,
            ["incomplete_details"] = null,
            ["instructions"] = request.Instructions,
            ["max_output_tokens"] = chat.MaxTokens,
            ["model"] = chat.Model,
            ["output"] = _output.DeepClone(),
            ["parallel_tool_calls"] = true,
            ["previous_response_id"] = request.PreviousResponseId,
            ["reasoning"] = new JsonObject { ["effort"] = null, ["summary"] = null },
            ["store"] = request.Store,
            ["temperature"] = chat.Sampling.Temperature,
            ["top_p"] = chat.Sampling.TopP,
            ["text"] = request.Echo["text"]?.DeepClone() ?? new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
            ["tool_choice"] = request.Echo["tool_choice"]?.DeepClone() ?? "auto",
            ["tools"] = request.Echo["tools"]?.DeepClone() ?? new JsonArray(),
            ["truncation"] = "disabled",
            ["usage"] = usage is null ? null : new JsonObject
            {
                ["input_tokens"] = usage.PromptTokens,
                ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CachedPromptTokens },
                ["output_tokens"] = usage.CompletionTokens,
                ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 }, // the engine does not count thinking tokens apart
                ["total_tokens"] = usage.PromptTokens + usage.CompletionTokens,
            },
            ["user"] = chat.User,
            ["metadata"] = request.Echo["metadata"]?.DeepClone() ?? new JsonObject(),
        };
        return response;
    }

    private async Task CloseReasoningAsync()
    {
        if (_reasoning is not { } reasoning || _reasoningClosed)
        {
            return;
        }

        _reasoningClosed = true;
        await EmitAsync("response.reasoning_text.done", new JsonObject
        {
            ["item_id"] = reasoning.ItemId,
            ["output_index"] = reasoning.OutputIndex,
            ["content_index"] = 0,
            ["text"] = _thinking,
        });
        _output[reasoning.OutputIndex] = ReasoningItem(reasoning.ItemId, _thinking);
        await EmitAsync("response.output_item.done", new JsonObject { ["output_index"] = reasoning.OutputIndex, ["item"] = _output[reasoning.OutputIndex]!.DeepClone() });
    }

    /// <summary>A reasoning item: the model's thinking as reasoning_text content (no summary is made).</summary>
    private static JsonObject ReasoningItem(string itemId, string? text) => new()
    {
        ["type"] = "reasoning",
        ["id"] = itemId,
        ["summary"] = new JsonArray(),
        ["content"] = text is null ? new JsonArray() : new JsonArray(new JsonObject { ["type"] = "reasoning_text", ["text"] = text }),
    };

    private JsonObject PartEvent(JsonObject part) => new()
    {
        ["item_id"] = _message!.Value.ItemId,
        ["output_index"] = _message.Value.OutputIndex,
        ["content_index"] = 0,
        ["part"] = part,
    };

    private static JsonObject TextPart(string text) => new() { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray() };

    private static JsonObject MessageItem(string itemId, string text, string status, bool withPart = true) => new()
    {
        ["type"] = "message",
        ["id"] = itemId,
        ["status"] = status,
        ["role"] = "assistant",
        ["content"] = withPart ? new JsonArray(TextPart(text)) : new JsonArray(),
    };

    private static JsonObject FunctionItem(string itemId, string callId, string name, string arguments, string status) => new()
    {
        ["type"] = "function_call",
        ["id"] = itemId,
        ["call_id"] = callId,
        ["name"] = name,
        ["arguments"] = arguments,
        ["status"] = status,
    };

    private Task EmitAsync(string type, JsonObject payload) =>
        sse is null ? Task.CompletedTask : sse.WriteTypedEventAsync(type, payload, _sequence++);
}
