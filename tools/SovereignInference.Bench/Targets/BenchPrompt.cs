namespace SovereignInference.Bench.Targets;

/// <summary>One request's input: the prompt text and the output length asked for.</summary>
internal sealed record BenchPrompt(string Text, int MaxTokens);
