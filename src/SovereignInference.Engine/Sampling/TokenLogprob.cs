namespace SovereignInference.Engine.Sampling;

/// <summary>A token id with its log-probability under the model's raw distribution.</summary>
/// <param name="Token">The token id.</param>
/// <param name="Logprob">Its raw log-softmax, never below <see cref="TokenSampler.LogprobFloor"/>.</param>
public readonly record struct TokenLogprob(int Token, float Logprob);
