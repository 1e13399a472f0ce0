using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using Proto = SovereignInference.Contracts.V1;

namespace SovereignInference.Server.Grpc;

/// <summary>
/// Proto messages ↔ engine types. Engine and proto share type names (FinishReason, ModelState, SamplingParams, ChatMessage,
/// ChatRole, ToolCallDelta…), so every proto type is written <c>Proto.X</c> and every unqualified type is the engine's.
/// Field checks the engine does itself are left to it.
/// </summary>
internal static class ProtoMapping
{
    public static GenerationRequest ToEngine(Proto.GenerateRequest request)
    {
        string? text = null;
        IReadOnlyList<int>? tokens = null;
        switch (request.PromptCase)
        {
            case Proto.GenerateRequest.PromptOneofCase.Text when request.Text.Length == 0:
                throw EngineException.Invalid("prompt.text", "prompt.text is empty; give a non-empty text or token ids");
            case Proto.GenerateRequest.PromptOneofCase.Text:
                text = request.Text;
                break;
            case Proto.GenerateRequest.PromptOneofCase.Tokens:
                tokens = request.Tokens.Ids;
                break;
            default:
                throw EngineException.Invalid("prompt", "prompt is required: set prompt.text or prompt.tokens");
        }

        return WithSampling(request.Sampling) with
        {
            Model = request.Model,
            Prompt = text,
            PromptTokens = tokens,
            AddBos = request.HasAddBos ? request.AddBos : null,
            ParseSpecialTokens = !request.HasParseSpecial || request.ParseSpecial,
            User = request.User.Length > 0 ? request.User : null,
            Grammar = ToGrammar(request.HasJsonObject && request.JsonObject, request.HasJsonSchema ? request.JsonSchema : null),
        };
    }

    /// <summary>The request fields the proto SamplingParams carries; Model and the prompt are set by the caller.</summary>
    public static GenerationRequest WithSampling(Proto.SamplingParams? s)
    {
        s ??= new Proto.SamplingParams();
        var defaults = new SamplingParams();
        return new GenerationRequest
        {
            Model = "",
            MaxTokens = s.HasMaxTokens ? s.MaxTokens : null,
            Stop = [.. s.Stop],
            IgnoreEos = s.IgnoreEos,
            Sampling = new SamplingParams
            {
                Temperature = s.HasTemperature ? s.Temperature : defaults.Temperature,
                TopK = s.HasTopK ? s.TopK : defaults.TopK,
                TopP = s.HasTopP ? s.TopP : defaults.TopP,
                MinP = s.HasMinP ? s.MinP : defaults.MinP,
                Seed = s.HasSeed ? s.Seed : null,
                RepeatPenalty = s.HasRepeatPenalty ? s.RepeatPenalty : defaults.RepeatPenalty,
                RepeatLastN = s.HasRepeatLastN ? s.RepeatLastN : defaults.RepeatLastN,
                FrequencyPenalty = s.HasFrequencyPenalty ? s.FrequencyPenalty : defaults.FrequencyPenalty,
                PresencePenalty = s.HasPresencePenalty ? s.PresencePenalty : defaults.PresencePenalty,
                LogitBias = s.LogitBias.Count > 0 ? new Dictionary<int, float>(s.LogitBias) : null,
                Logprobs = s.HasLogprobs,
                TopLogprobs = s.HasLogprobs ? s.Logprobs : 0,
            },
        };
    }

    public static ChatMessage ToEngine(Proto.ChatMessage message, int index)
    {
        var role = message.Role switch
        {
            Proto.ChatRole.System => ChatRole.System,
            Proto.ChatRole.User => ChatRole.User,
            Proto.ChatRole.Assistant => ChatRole.Assistant,
            Proto.ChatRole.Tool => ChatRole.Tool,
            _ => throw EngineException.Invalid($"messages[{index}].role", $"messages[{index}].role must be SYSTEM, USER, ASSISTANT or TOOL"),
        };
        if (message.Role == Proto.ChatRole.Tool && message.ToolCallId.Length == 0)
        {
            throw EngineException.Invalid($"messages[{index}].tool_call_id", $"messages[{index}].tool_call_id is required for a TOOL message");
        }

        if (message.ToolCalls.Count > 0 && message.Role != Proto.ChatRole.Assistant)
        {
            throw EngineException.Invalid($"messages[{index}].tool_calls", $"messages[{index}].tool_calls is allowed on ASSISTANT messages only");
        }

        for (var k = 0; k < message.ToolCalls.Count; k++)
        {
            var call = message.ToolCalls[k];
            if (call.Id.Length == 0 || call.Name.Length == 0)
            {
                throw EngineException.Invalid($"messages[{index}].tool_calls[{k}]", $"messages[{index}].tool_calls[{k}] needs an id and a name");
            }
        }

        return new ChatMessage(role, message.Content.Length > 0 || message.ToolCalls.Count == 0 ? message.Content : null)
        {
            ToolCalls = message.ToolCalls.Count > 0
                ? [.. message.ToolCalls.Select(c => new ChatToolCall(c.Id, c.Name, c.ArgumentsJson.Length > 0 ? c.ArgumentsJson : "{}"))]
                : null,
            ToolCallId = message.ToolCallId.Length > 0 ? message.ToolCallId : null,
            Name = message.Name.Length > 0 ? message.Name : null,
            Reasoning = message.Role == Proto.ChatRole.Assistant && message.Reasoning.Length > 0 ? message.Reasoning : null,
        };
    }

    public static ToolDefinition ToEngine(Proto.Tool tool, int index) => tool.Name.Length == 0
        ? throw EngineException.Invalid($"tools[{index}].name", $"tools[{index}].name is required")
        : new ToolDefinition(tool.Name, tool.Description.Length > 0 ? tool.Description : null, tool.ParametersJson.Length > 0 ? tool.ParametersJson : null);

    /// <summary>
    /// tool_choice → the engine's <see cref="ToolChoiceMode"/> and named function: the same rules as the HTTP API's
    /// tool_choice ("none", "auto", "required", a named function), checked against the request's tools.
    /// </summary>
    public static (ToolChoiceMode Mode, string? Function) ToToolChoice(Proto.ToolChoice choice, string function, IReadOnlyList<ToolDefinition> tools)
    {
        if (choice != Proto.ToolChoice.Function && function.Length > 0)
        {
            throw EngineException.Invalid("tool_choice_function", "is only allowed with tool_choice = TOOL_CHOICE_FUNCTION");
        }

        if (choice is Proto.ToolChoice.Required or Proto.ToolChoice.Function && tools.Count == 0)
        {
            throw EngineException.Invalid("tool_choice", $"is {choice} but no tools are given");
        }

        return choice switch
        {
            Proto.ToolChoice.Unspecified or Proto.ToolChoice.Auto => (ToolChoiceMode.Auto, null),
            Proto.ToolChoice.None => (ToolChoiceMode.None, null),
            Proto.ToolChoice.Required => (ToolChoiceMode.Required, null),
            Proto.ToolChoice.Function when function.Length == 0 => throw EngineException.Invalid("tool_choice_function", "is required with tool_choice = TOOL_CHOICE_FUNCTION"),
            Proto.ToolChoice.Function when !tools.Any(t => string.Equals(t.Name, function, StringComparison.Ordinal)) =>
                throw EngineException.Invalid("tool_choice_function", $"names the function '{function}', which is not among the tools"),
            Proto.ToolChoice.Function => (ToolChoiceMode.Named, function),
            _ => throw EngineException.Invalid("tool_choice", $"unknown value {(int)choice}"),
        };
    }

    /// <summary>The grammar of a response_format oneof: json_object → any JSON object, json_schema → that schema.</summary>
    public static GrammarSpec? ToGrammar(bool jsonObject, string? jsonSchema) => jsonSchema is not null
        ? JsonSchemaGrammar.FromSchema(jsonSchema)
        : jsonObject ? JsonSchemaGrammar.JsonObject() : null;

    public static Proto.GenerateResponse ToGenerateResponse(GenerationUpdate update, bool logprobs)
    {
        var response = new Proto.GenerateResponse
        {
            Text = update.Text,
            Final = update.Finish is { } finish ? ToFinal(finish, update.MatchedStop, update.Usage, update.Timings) : null,
        };
        AddTokens(update.Tokens, logprobs, response.TokenIds, response.Logprobs);
        return response;
    }

    public static Proto.ChatResponse ToChatResponse(ChatDelta delta, bool logprobs)
    {
        var response = new Proto.ChatResponse { Text = delta.Content, Reasoning = delta.Reasoning };
        foreach (var d in delta.ToolCalls)
        {
            response.ToolCallDeltas.Add(new Proto.ToolCallDelta { Index = d.Index, Id = d.Id ?? "", Name = d.Name ?? "", ArgumentsFragment = d.Arguments });
        }

        AddTokens(delta.Tokens, logprobs, response.TokenIds, response.Logprobs);
        if (delta.End is { } end)
        {
            var final = ToFinal(end.Finish, end.MatchedStop, end.Usage, end.Timings);
            if (end.Reason == ChatFinish.ToolCalls)
            {
                final.FinishReason = Proto.FinishReason.ToolCalls;
            }

            response.Final = final;
            response.ToolCalls.AddRange(end.ToolCalls.Select(c => new Proto.ToolCall { Id = c.Id, Name = c.Name, ArgumentsJson = c.Arguments }));
        }

        return response;
    }

    public static Proto.Model ToProto(ModelEntry entry)
    {
        var model = new Proto.Model
        {
            Id = entry.Id,
            State = entry.State switch
            {
                ModelState.Pending => Proto.ModelState.Pending,
                ModelState.Loading => Proto.ModelState.Loading,
                ModelState.Ready => Proto.ModelState.Ready,
                ModelState.Failed => Proto.ModelState.Failed,
                _ => Proto.ModelState.Unspecified,
            },
            Error = entry.Error ?? "",
            CreatedUnixSeconds = entry.LoadedAtUnixSeconds,
            SequenceContext = entry.SequenceContextSize,
            VocabSize = entry.Tokenizer?.VocabSize ?? 0,
            Status = entry.Status,
            MemoryEstimateBytes = entry.Plan?.TotalBytes ?? 0,
            Pid = entry.Pid ?? 0,
            Pinned = entry.Pinned,
        };
        foreach (var share in entry.Plan?.DeviceShares ?? [])
        {
            model.MemoryByDevice.Add(new Proto.DeviceMemory { Device = share.Device, Bytes = share.Bytes });
        }

        if (entry.Info is { } info)
        {
            model.Sha256 = info.Sha256 ?? "";
            model.FileSizeBytes = info.FileSize;
            model.Quantization = info.Quantization;
            model.ContextLength = info.ContextLength ?? 0;
            model.Architecture = info.Architecture;
            model.ParameterCount = info.ParameterCount;
        }

        return model;
    }

    private static void AddTokens(IReadOnlyList<GeneratedToken> tokens, bool logprobs, RepeatedField<int> ids, RepeatedField<Proto.TokenLogprob> probabilities)
    {
        foreach (var token in tokens)
        {
            ids.Add(token.Token);
            if (logprobs)
            {
                var entry = new Proto.TokenLogprob { TokenId = token.Token, Logprob = token.Logprob };
                foreach (var top in token.TopLogprobs ?? [])
                {
                    entry.Top.Add(new Proto.TopLogprob { TokenId = top.Token, Logprob = top.Logprob });
                }

                probabilities.Add(entry);
            }
        }
    }

    private static Proto.GenerationFinal ToFinal(FinishReason finish, string? matchedStop, UsageInfo? usage, GenerationTimings? timings)
    {
        var final = new Proto.GenerationFinal
        {
            FinishReason = finish switch
            {
                FinishReason.Stop => Proto.FinishReason.Stop,
                FinishReason.Length => Proto.FinishReason.Length,
                _ => Proto.FinishReason.Unspecified,
            },
            MatchedStop = matchedStop ?? "",
        };
        if (usage is not null)
        {
            final.Usage = new Proto.Usage
            {
                PromptTokens = usage.PromptTokens,
                CompletionTokens = usage.CompletionTokens,
                CachedPromptTokens = usage.CachedPromptTokens,
                TotalTokens = usage.TotalTokens,
            };
        }

        if (timings is not null)
        {
            final.Timings = new Proto.Timings
            {
                Queue = Duration.FromTimeSpan(timings.QueueWait),
                TimeToFirstToken = Duration.FromTimeSpan(timings.TimeToFirstToken),
                Decode = Duration.FromTimeSpan(timings.Decode),
            };
        }

        return final;
    }
}
