using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using EngineFinish = SovereignInference.Engine.Requests.FinishReason;
using EngineModelState = SovereignInference.Engine.Hosting.ModelState;
using EngineSampling = SovereignInference.Engine.Sampling.SamplingParams;
using ProtoFinish = SovereignInference.Contracts.V1.FinishReason;
using ProtoModelState = SovereignInference.Contracts.V1.ModelState;
using ProtoSampling = SovereignInference.Contracts.V1.SamplingParams;
using ChatMessage = SovereignInference.Contracts.V1.ChatMessage;
using ChatRole = SovereignInference.Contracts.V1.ChatRole;
using EngineChatMessage = SovereignInference.Engine.Chat.ChatMessage;
using EngineChatRole = SovereignInference.Engine.Chat.ChatRole;
using ProtoToolCallDelta = SovereignInference.Contracts.V1.ToolCallDelta;

namespace SovereignInference.Server.Grpc;

/// <summary>Proto messages ↔ engine types. Field checks the engine does itself are left to it.</summary>
internal static class ProtoMapping
{
    public static GenerationRequest ToEngine(GenerateRequest request)
    {
        string? text = null;
        IReadOnlyList<int>? tokens = null;
        switch (request.PromptCase)
        {
            case GenerateRequest.PromptOneofCase.Text when request.Text.Length == 0:
                throw EngineException.Invalid("prompt.text", "prompt.text is empty; give a non-empty text or token ids");
            case GenerateRequest.PromptOneofCase.Text:
                text = request.Text;
                break;
            case GenerateRequest.PromptOneofCase.Tokens:
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

    /// <summary>The request fields SamplingParams carries; Model and the prompt are set by the caller.</summary>
    public static GenerationRequest WithSampling(ProtoSampling? s)
    {
        s ??= new ProtoSampling();
        var defaults = new EngineSampling();
        return new GenerationRequest
        {
            Model = "",
            MaxTokens = s.HasMaxTokens ? s.MaxTokens : null,
            Stop = [.. s.Stop],
            IgnoreEos = s.IgnoreEos,
            Sampling = new EngineSampling
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

    public static EngineChatMessage ToEngine(ChatMessage message, int index)
    {
        var role = message.Role switch
        {
            ChatRole.System => EngineChatRole.System,
            ChatRole.User => EngineChatRole.User,
            ChatRole.Assistant => EngineChatRole.Assistant,
            ChatRole.Tool => EngineChatRole.Tool,
            _ => throw EngineException.Invalid($"messages[{index}].role", $"messages[{index}].role must be SYSTEM, USER, ASSISTANT or TOOL"),
        };
        if (message.Role == ChatRole.Tool && message.ToolCallId.Length == 0)
        {
            throw EngineException.Invalid($"messages[{index}].tool_call_id", $"messages[{index}].tool_call_id is required for a TOOL message");
        }

        if (message.ToolCalls.Count > 0 && message.Role != ChatRole.Assistant)
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

        return new EngineChatMessage(role, message.Content.Length > 0 || message.ToolCalls.Count == 0 ? message.Content : null)
        {
            ToolCalls = message.ToolCalls.Count > 0
                ? [.. message.ToolCalls.Select(c => new ChatToolCall(c.Id, c.Name, c.ArgumentsJson.Length > 0 ? c.ArgumentsJson : "{}"))]
                : null,
            ToolCallId = message.ToolCallId.Length > 0 ? message.ToolCallId : null,
            Name = message.Name.Length > 0 ? message.Name : null,
            Reasoning = message.Role == ChatRole.Assistant && message.Reasoning.Length > 0 ? message.Reasoning : null,
        };
    }

    public static ToolDefinition ToEngine(Tool tool, int index) => tool.Name.Length == 0
        ? throw EngineException.Invalid($"tools[{index}].name", $"tools[{index}].name is required")
        : new ToolDefinition(tool.Name, tool.Description.Length > 0 ? tool.Description : null, tool.ParametersJson.Length > 0 ? tool.ParametersJson : null);

    /// <summary>
    /// tool_choice → the engine's <see cref="ToolChoiceMode"/> and named function: the same rules as the HTTP API's
    /// tool_choice ("none", "auto", "required", a named function), checked against the request's tools.
    /// </summary>
    public static (ToolChoiceMode Mode, string? Function) ToToolChoice(ToolChoice choice, string function, IReadOnlyList<ToolDefinition> tools)
    {
        if (choice != ToolChoice.Function && function.Length > 0)
        {
            throw EngineException.Invalid("tool_choice_function", "is only allowed with tool_choice = TOOL_CHOICE_FUNCTION");
        }

        if (choice is ToolChoice.Required or ToolChoice.Function && tools.Count == 0)
        {
            throw EngineException.Invalid("tool_choice", $"is {choice} but no tools are given");
        }

        return choice switch
        {
            ToolChoice.Unspecified or ToolChoice.Auto => (ToolChoiceMode.Auto, null),
            ToolChoice.None => (ToolChoiceMode.None, null),
            ToolChoice.Required => (ToolChoiceMode.Required, null),
            ToolChoice.Function when function.Length == 0 => throw EngineException.Invalid("tool_choice_function", "is required with tool_choice = TOOL_CHOICE_FUNCTION"),
            ToolChoice.Function when !tools.Any(t => string.Equals(t.Name, function, StringComparison.Ordinal)) =>
                throw EngineException.Invalid("tool_choice_function", $"names the function '{function}', which is not among the tools"),
            ToolChoice.Function => (ToolChoiceMode.Named, function),
            _ => throw EngineException.Invalid("tool_choice", $"unknown value {(int)choice}"),
        };
    }

    /// <summary>The grammar of a response_format oneof: json_object → any JSON object, json_schema → that schema.</summary>
    public static GrammarSpec? ToGrammar(bool jsonObject, string? jsonSchema) => jsonSchema is not null
        ? JsonSchemaGrammar.FromSchema(jsonSchema)
        : jsonObject ? JsonSchemaGrammar.JsonObject() : null;

    public static GenerateResponse ToGenerateResponse(GenerationUpdate update, bool logprobs)
    {
        var response = new GenerateResponse { Text = update.Text, Final = ToFinal(update) };
        AddTokens(update, logprobs, response.TokenIds, response.Logprobs);
        return response;
    }

    public static ChatResponse ToChatResponse(GenerationUpdate update, ChatDelta delta, ChatStreamAssembler reply, bool logprobs)
    {
        var response = new ChatResponse { Text = delta.Content, Reasoning = delta.Reasoning };
        foreach (var d in delta.ToolCalls)
        {
            response.ToolCallDeltas.Add(new ProtoToolCallDelta { Index = d.Index, Id = d.Id ?? "", Name = d.Name ?? "", ArgumentsFragment = d.Arguments });
        }

        AddTokens(update, logprobs, response.TokenIds, response.Logprobs);
        if (ToFinal(update) is { } final)
        {
            if (reply.FinishReason == ChatFinish.ToolCalls)
            {
                final.FinishReason = ProtoFinish.ToolCalls;
            }

            response.Final = final;
            response.ToolCalls.AddRange(reply.HasToolCalls ? reply.Calls.Select(c => new ToolCall { Id = c.Id, Name = c.Name, ArgumentsJson = c.Arguments }) : []);
        }

        return response;
    }

    public static Model ToProto(ModelEntry entry)
    {
        var model = new Model
        {
            Id = entry.Id,
            State = entry.State switch
            {
                EngineModelState.Pending => ProtoModelState.Pending,
                EngineModelState.Loading => ProtoModelState.Loading,
                EngineModelState.Ready => ProtoModelState.Ready,
                EngineModelState.Failed => ProtoModelState.Failed,
                _ => ProtoModelState.Unspecified,
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

    private static void AddTokens(GenerationUpdate update, bool logprobs, RepeatedField<int> ids, RepeatedField<TokenLogprob> probabilities)
    {
        foreach (var token in update.Tokens)
        {
            ids.Add(token.Token);
            if (logprobs)
            {
                var entry = new TokenLogprob { TokenId = token.Token, Logprob = token.Logprob };
                foreach (var top in token.TopLogprobs ?? [])
                {
                    entry.Top.Add(new TopLogprob { TokenId = top.Token, Logprob = top.Logprob });
                }

                probabilities.Add(entry);
            }
        }
    }

    private static GenerationFinal? ToFinal(GenerationUpdate update)
    {
        if (update.Finish is not { } finish)
        {
            return null;
        }

        var final = new GenerationFinal
        {
            FinishReason = finish switch
            {
                EngineFinish.Stop => ProtoFinish.Stop,
                EngineFinish.Length => ProtoFinish.Length,
                _ => ProtoFinish.Unspecified,
            },
            MatchedStop = update.MatchedStop ?? "",
        };
        if (update.Usage is { } usage)
        {
            final.Usage = new Usage
            {
                PromptTokens = usage.PromptTokens,
                CompletionTokens = usage.CompletionTokens,
                CachedPromptTokens = usage.CachedPromptTokens,
                TotalTokens = usage.TotalTokens,
            };
        }

        if (update.Timings is { } timings)
        {
            final.Timings = new Timings
            {
                Queue = Duration.FromTimeSpan(timings.QueueWait),
                TimeToFirstToken = Duration.FromTimeSpan(timings.TimeToFirstToken),
                Decode = Duration.FromTimeSpan(timings.Decode),
            };
        }

        return final;
    }
}
