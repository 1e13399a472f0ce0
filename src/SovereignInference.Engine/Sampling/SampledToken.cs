namespace SovereignInference.Engine.Sampling;

/// <summary>The result of one <see cref="TokenSampler.Sample(ReadOnlySpan{float})"/> step.</summary>
/// <param name="Token">The chosen token id.</param>
/// <param name="Logprob">
/// The model's log-probability of <paramref name="Token"/>: the log-softmax of the raw logits, before logit bias,
/// penalties and temperature (what OpenAI reports). Never below <see cref="TokenSampler.LogprobFloor"/>. Computed only
/// when <see cref="SamplingParams.Logprobs"/> is set (it costs a pass of exp over the vocabulary); otherwise NaN.
/// </param>
/// <param name="TopLogprobs">
/// The <see cref="SamplingParams.TopLogprobs"/> most likely tokens by raw log-softmax, most likely first (ties to the
/// lower id), when <see cref="SamplingParams.Logprobs"/> is set and <see cref="SamplingParams.TopLogprobs"/> &gt; 0;
/// otherwise <see langword="null"/>. Holds fewer entries only when fewer tokens have a finite logit.
/// </param>
public readonly record struct SampledToken(int Token, float Logprob, TokenLogprob[]? TopLogprobs);
