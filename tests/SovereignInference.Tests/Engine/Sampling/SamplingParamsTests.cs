using SovereignInference.Engine.Sampling;

namespace SovereignInference.Tests.Engine.Sampling;

public class SamplingParamsTests
{
    private const int Vocab = 1000;

    [Fact]
    public void Defaults_match_the_documented_values()
    {
        var p = new SamplingParams();
        Assert.Equal(1f, p.Temperature);
        Assert.Equal(0, p.TopK);
        Assert.Equal(1f, p.TopP);
        Assert.Equal(0f, p.MinP);
        Assert.Null(p.Seed);
        Assert.Equal(1f, p.RepeatPenalty);
        Assert.Equal(64, p.RepeatLastN);
        Assert.Equal(0f, p.FrequencyPenalty);
        Assert.Equal(0f, p.PresencePenalty);
        Assert.Null(p.LogitBias);
        Assert.Equal(0, p.TopLogprobs);
        Assert.False(p.Logprobs);
        Assert.Null(p.GetValidationError(Vocab));
        p.Validate(Vocab);
    }

    [Fact]
    public void Greedy_has_zero_temperature_and_is_valid()
    {
        Assert.Equal(0f, SamplingParams.Greedy.Temperature);
        SamplingParams.Greedy.Validate(Vocab);
    }

    public static TheoryData<string, SamplingParams> BadParams() => new()
    {
        { "temperature", new SamplingParams { Temperature = -0.01f } },
        { "temperature", new SamplingParams { Temperature = 2.01f } },
        { "temperature", new SamplingParams { Temperature = float.NaN } },
        { "temperature", new SamplingParams { Temperature = float.PositiveInfinity } },
        { "temperature", new SamplingParams { Temperature = float.NegativeInfinity } },
        { "top_p", new SamplingParams { TopP = 0f } },
        { "top_p", new SamplingParams { TopP = -0.5f } },
        { "top_p", new SamplingParams { TopP = 1.0001f } },
        { "top_p", new SamplingParams { TopP = float.NaN } },
        { "top_p", new SamplingParams { TopP = float.PositiveInfinity } },
        { "top_k", new SamplingParams { TopK = -1 } },
        { "top_k", new SamplingParams { TopK = int.MinValue } },
        { "min_p", new SamplingParams { MinP = -0.1f } },
        { "min_p", new SamplingParams { MinP = 1.1f } },
        { "min_p", new SamplingParams { MinP = float.NaN } },
        { "min_p", new SamplingParams { MinP = float.NegativeInfinity } },
        { "frequency_penalty", new SamplingParams { FrequencyPenalty = 2.5f } },
        { "frequency_penalty", new SamplingParams { FrequencyPenalty = -2.5f } },
        { "frequency_penalty", new SamplingParams { FrequencyPenalty = float.NaN } },
        { "frequency_penalty", new SamplingParams { FrequencyPenalty = float.PositiveInfinity } },
        { "presence_penalty", new SamplingParams { PresencePenalty = 2.5f } },
        { "presence_penalty", new SamplingParams { PresencePenalty = -2.5f } },
        { "presence_penalty", new SamplingParams { PresencePenalty = float.NaN } },
        { "presence_penalty", new SamplingParams { PresencePenalty = float.NegativeInfinity } },
        { "repeat_penalty", new SamplingParams { RepeatPenalty = 0f } },
        { "repeat_penalty", new SamplingParams { RepeatPenalty = -1f } },
        { "repeat_penalty", new SamplingParams { RepeatPenalty = float.NaN } },
        { "repeat_penalty", new SamplingParams { RepeatPenalty = float.PositiveInfinity } },
        { "repeat_last_n", new SamplingParams { RepeatLastN = -2 } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [-1] = 1f } } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [Vocab] = 1f } } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = 100.5f } } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = -101f } } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = float.NaN } } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = float.NegativeInfinity } } },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = float.PositiveInfinity } } },
        { "top_logprobs", new SamplingParams { TopLogprobs = -1 } },
        { "top_logprobs", new SamplingParams { TopLogprobs = 21 } },
    };

    [Theory]
    [MemberData(nameof(BadParams))]
    public void Validate_rejects_bad_values_naming_the_OpenAI_field(string field, SamplingParams p)
    {
        var ex = Assert.Throws<ArgumentException>(() => p.Validate(Vocab));
        Assert.Equal(field, ex.ParamName);
        Assert.StartsWith(field, ex.Message, StringComparison.Ordinal);

        var error = p.GetValidationError(Vocab);
        Assert.NotNull(error);
        Assert.Equal(field, error.ParamName);

        Assert.Throws<ArgumentException>(() => new TokenSampler(p, Vocab, []));
    }

    public static TheoryData<SamplingParams> GoodParams() => new()
    {
        new SamplingParams { Temperature = 0f },
        new SamplingParams { Temperature = 2f },
        new SamplingParams { TopP = 1e-6f },
        new SamplingParams { TopP = 1f },
        new SamplingParams { TopK = 1 },
        new SamplingParams { TopK = 1_000_000 },
        new SamplingParams { MinP = 0f },
        new SamplingParams { MinP = 1f },
        new SamplingParams { FrequencyPenalty = -2f, PresencePenalty = 2f },
        new SamplingParams { FrequencyPenalty = 2f, PresencePenalty = -2f },
        new SamplingParams { RepeatPenalty = 0.5f, RepeatLastN = -1 },
        new SamplingParams { RepeatPenalty = 10f, RepeatLastN = 0 },
        new SamplingParams { LogitBias = new Dictionary<int, float> { [0] = -100f, [Vocab - 1] = 100f } },
        new SamplingParams { TopLogprobs = 20, Logprobs = true },
        new SamplingParams { Seed = ulong.MaxValue },
    };

    [Theory]
    [MemberData(nameof(GoodParams))]
    public void Validate_accepts_boundary_values(SamplingParams p)
    {
        Assert.Null(p.GetValidationError(Vocab));
        p.Validate(Vocab);
    }
}
