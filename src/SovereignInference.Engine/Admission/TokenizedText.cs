namespace SovereignInference.Engine.Admission;

/// <summary>Text and token ids of a model's vocabulary, as the transports' /tokenize, /detokenize (and gRPC twins) ask.</summary>
/// <param name="Ids">The token ids.</param>
/// <param name="Pieces">Each id's piece as text, when asked for.</param>
public sealed record TokenizedText(IReadOnlyList<int> Ids, IReadOnlyList<string>? Pieces);
