using System.Globalization;

namespace SovereignInference.Engine.Sampling;

/// <summary>
/// Per-request sampling settings. Immutable; build with an object initializer
/// (<c>new SamplingParams { Temperature = 0.7f, TopP = 0.9f }</c>) and check with
/// <see cref="Validate(int)"/> before handing to a <see cref="TokenSampler"/>.
/// </summary>
/// <remarks>
/// Order of application in <see cref="TokenSampler.Sample(ReadOnlySpan{float})"/>: logit bias,
/// repetition penalty, frequency/presence penalties, then either greedy argmax
/// (<see cref="Temperature"/> = 0) or top-k, softmax with temperature, top-p, min-p and a
/// seeded random draw.
/// </remarks>
public sealed record SamplingParams
{
    /// <summary>Largest accepted <see cref="TopLogprobs"/> (OpenAI's limit).</summary>
    public const int MaxTopLogprobs = 20;

    /// <summary>Largest accepted <see cref="Temperature"/> (OpenAI's limit).</summary>
    public const float MaxTemperature = 2f;

    /// <summary>Largest accepted magnitude of a <see cref="LogitBias"/> value.</summary>
    public const float MaxLogitBias = 100f;

    /// <summary>Largest accepted magnitude of <see cref="FrequencyPenalty"/> and <see cref="PresencePenalty"/>.</summary>
    public const float MaxFrequencyPresencePenalty = 2f;

    /// <summary>Deterministic greedy decoding (argmax, ties to the lowest token id), no penalties.</summary>
    public static SamplingParams Greedy { get; } = new() { Temperature = 0f, Seed = 0 };

    /// <summary>Softmax temperature in [0, 2]; 0 selects greedy argmax. Default 1.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the K most likely tokens; 0 disables. Default 0.</summary>
    public int TopK { get; init; }

    /// <summary>Nucleus sampling mass in (0, 1]; 1 disables. Default 1.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Drop tokens whose probability is below <c>MinP × p(max)</c>; in [0, 1], 0 disables. Default 0.</summary>
    public float MinP { get; init; }

    /// <summary>
    /// PRNG seed. The same seed with the same sequence of logits yields the same tokens.
    /// <see langword="null"/> (default) makes the <see cref="TokenSampler"/> pick a random seed
    /// from a non-deterministic source when it is constructed (see <see cref="TokenSampler.Seed"/>).
    /// </summary>
    public ulong? Seed { get; init; }

    /// <summary>
    /// llama.cpp repetition penalty (&gt; 0; 1 disables): for each distinct token among the last
    /// <see cref="RepeatLastN"/> tokens of prompt + generated text, a positive logit is divided by it and
    /// a non-positive logit multiplied by it. Default 1.
    /// </summary>
    public float RepeatPenalty { get; init; } = 1f;

    /// <summary>Window for <see cref="RepeatPenalty"/>: 0 disables, -1 means the whole prompt + generated history. Default 64.</summary>
    public int RepeatLastN { get; init; } = 64;

    /// <summary>OpenAI frequency penalty in [-2, 2], over generated tokens only: <c>logit -= count × penalty</c>. Default 0.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>OpenAI presence penalty in [-2, 2], over generated tokens only: <c>logit -= penalty</c> if the token occurred. Default 0.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Values in [-100, 100] added to the logits of the given token ids; -100 effectively bans a token, +100 effectively forces it.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>Number of most likely alternatives to report per token, 0..20 (only when <see cref="Logprobs"/> is set).</summary>
    public int TopLogprobs { get; init; }

    /// <summary>Whether log-probabilities of the alternatives are wanted (<see cref="TopLogprobs"/>).</summary>
    public bool Logprobs { get; init; }

    /// <summary>
    /// Returns the first problem with these settings as an <see cref="ArgumentException"/> whose
    /// <see cref="ArgumentException.ParamName"/> is the OpenAI request field ("temperature", "top_p", "top_k",
    /// "min_p", "frequency_penalty", "presence_penalty", "repeat_penalty", "repeat_last_n", "logit_bias",
    /// "top_logprobs"), or <see langword="null"/> when they are valid for a vocabulary of <paramref name="vocabSize"/> tokens.
    /// </summary>
    public ArgumentException? GetValidationError(int vocabSize)
    {
        if (!float.IsFinite(Temperature) || Temperature < 0f || Temperature > MaxTemperature)
        {
            return Error("temperature", "must be a finite number between 0 and 2", Temperature);
        }

        if (!float.IsFinite(TopP) || TopP <= 0f || TopP > 1f)
        {
            return Error("top_p", "must be a finite number greater than 0 and at most 1", TopP);
        }

        if (TopK < 0)
        {
            return Invalid($"top_k must be 0 (disabled) or a positive integer, got {TopK.ToString(CultureInfo.InvariantCulture)}.", "top_k");
        }

        if (!float.IsFinite(MinP) || MinP < 0f || MinP > 1f)
        {
            return Error("min_p", "must be a finite number between 0 and 1", MinP);
        }

        if (!float.IsFinite(FrequencyPenalty) || Math.Abs(FrequencyPenalty) > MaxFrequencyPresencePenalty)
        {
            return Error("frequency_penalty", "must be a finite number between -2 and 2", FrequencyPenalty);
        }

        if (!float.IsFinite(PresencePenalty) || Math.Abs(PresencePenalty) > MaxFrequencyPresencePenalty)
        {
            return Error("presence_penalty", "must be a finite number between -2 and 2", PresencePenalty);
        }

        if (!float.IsFinite(RepeatPenalty) || RepeatPenalty <= 0f)
        {
            return Error("repeat_penalty", "must be a finite number greater than 0", RepeatPenalty);
        }

        if (RepeatLastN < -1)
        {
            return Invalid($"repeat_last_n must be -1 (whole history), 0 (disabled) or a positive integer, got {RepeatLastN.ToString(CultureInfo.InvariantCulture)}.", "repeat_last_n");
        }

        if (LogitBias is not null)
        {
            foreach (var (token, bias) in LogitBias)
            {
                if ((uint)token >= (uint)vocabSize)
                {
                    return Invalid(
                        $"logit_bias key {token.ToString(CultureInfo.InvariantCulture)} is not a token id of this model (valid ids are 0 to {(vocabSize - 1).ToString(CultureInfo.InvariantCulture)}).",
                        "logit_bias");
                }

                if (!float.IsFinite(bias) || Math.Abs(bias) > MaxLogitBias)
                {
                    return Invalid(
                        $"logit_bias value for token {token.ToString(CultureInfo.InvariantCulture)} must be a finite number between -100 and 100, got {bias.ToString(CultureInfo.InvariantCulture)}.",
                        "logit_bias");
                }
            }
        }

        if (TopLogprobs is < 0 or > MaxTopLogprobs)
        {
            return Invalid($"top_logprobs must be an integer between 0 and 20, got {TopLogprobs.ToString(CultureInfo.InvariantCulture)}.", "top_logprobs");
        }

        return null;
    }

    /// <summary>
    /// Throws the error described by <see cref="GetValidationError(int)"/>, if any.
    /// </summary>
    /// <param name="vocabSize">The model's vocabulary size (valid token ids are 0..vocabSize-1).</param>
    /// <exception cref="ArgumentException">A setting is out of range; <see cref="ArgumentException.ParamName"/> names the OpenAI field.</exception>
    public void Validate(int vocabSize)
    {
        var error = GetValidationError(vocabSize);
        if (error is not null)
        {
            throw error;
        }
    }

    private static ArgumentException Error(string field, string rule, float value) =>
        Invalid($"{field} {rule}, got {value.ToString(CultureInfo.InvariantCulture)}.", field);

    /// <summary>An <see cref="ArgumentException"/> naming the request field (not a parameter of this method) as ParamName.</summary>
    private static ArgumentException Invalid(string message, string field) => new(message, field);
}
