namespace SovereignInference.Engine.Abstractions;

/// <summary>One token of a batched decode: which sequence it belongs to, its position, and whether logits are wanted.</summary>
public readonly record struct BatchToken(int Token, int Position, int Sequence, bool WantLogits);
