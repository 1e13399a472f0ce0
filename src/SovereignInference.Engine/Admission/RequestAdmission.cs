using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Engine.Admission;

/// <summary>
/// Everything that can be wrong with a generation request is found here, before native code sees it: sampling,
/// stop strings, grammar, the prompt (text or ids) against the vocabulary and the sequence context, max_tokens and
/// keep_alive. An admitted request is handed to the model's scheduler as a started sequence.
/// </summary>
internal static class RequestAdmission
{
    /// <summary>Validates <paramref name="request"/> for the loaded model <paramref name="entry"/> and starts its sequence.</summary>
    /// <exception cref="EngineException">InvalidArgument, PromptTooLong or ModelNotReady (the model was unloaded).</exception>
    public static SequenceRequest Admit(GenerationRequest request, ModelEntry entry)
    {
        var tokenizer = entry.Tokenizer!;
        var instance = entry.Instance ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{entry.Id}' was unloaded", "model");
        var vocab = tokenizer.VocabSize;

        try
        {
            request.Sampling.Validate(vocab);
            StopMatcher.Validate(request.Stop);
        }
        catch (ArgumentException ex)
        {
            throw new EngineException(EngineErrorCode.InvalidArgument, ex.Message, ex.ParamName);
        }

        var prompt = TokenizePrompt(request, tokenizer);
        var context = instance.SequenceContextSize;
        if (prompt.Length >= context)
        {
            throw new EngineException(
                EngineErrorCode.PromptTooLong,
                $"The prompt has {prompt.Length} tokens but a sequence of model '{entry.Id}' holds {context} tokens, including at least one generated token",
                "prompt");
        }

        var maxNew = MaxNewTokens(request, entry.Id, context, prompt.Length);
        if (request.Grammar is { } grammar)
        {
            GbnfValidator.Validate(grammar);
        }

        var sampler = new TokenSampler(request.Sampling, vocab, prompt);
        return instance.Start(request, prompt, maxNew, sampler);
    }

    /// <summary>A request's keep_alive: null = the model's; <see cref="Timeout.InfiniteTimeSpan"/> = keep loaded.</summary>
    /// <exception cref="EngineException">InvalidArgument (param <c>keep_alive</c>).</exception>
    public static TimeSpan? ParseKeepAlive(string? text)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return KeepAlive.Parse(text, "keep_alive") ?? Timeout.InfiniteTimeSpan;
        }
        catch (ArgumentException ex)
        {
            throw EngineException.Invalid("keep_alive", ex.Message);
        }
    }

    private static int MaxNewTokens(GenerationRequest request, string model, int context, int promptLength)
    {
        if (request.MaxTokens is not { } max)
        {
            return context - promptLength;
        }

        if (max < 1)
        {
            throw EngineException.Invalid("max_tokens", $"max_tokens must be at least 1 (got {max})");
        }

        if (max > context)
        {
            throw EngineException.Invalid("max_tokens", $"max_tokens is {max} but the context of model '{model}' holds {context} tokens");
        }

        return max;
    }

    private static int[] TokenizePrompt(GenerationRequest request, ITokenizer tokenizer)
    {
        if ((request.Prompt is null) == (request.PromptTokens is null))
        {
            throw EngineException.Invalid("prompt", "Give the prompt either as text or as token ids (exactly one of them)");
        }

        int[] tokens;
        if (request.PromptTokens is { } ids)
        {
            tokens = new int[ids.Count];
            for (var i = 0; i < ids.Count; i++)
            {
                InputChecks.RejectOutsideVocabulary(ids[i], tokenizer.VocabSize, "prompt", $"Token id {ids[i]} at index {i}");

                tokens[i] = ids[i];
            }
        }
        else
        {
            InputChecks.RejectNul(request.Prompt, "prompt", "The prompt");

            tokens = tokenizer.Tokenize(request.Prompt!, request.AddBos ?? tokenizer.AddBosByDefault, request.ParseSpecialTokens);
        }

        if (tokens.Length == 0)
        {
            throw EngineException.Invalid("prompt", "The prompt is empty");
        }

        return tokens;
    }
}
