namespace SovereignInference.Engine.Abstractions;

/// <summary>
/// Restricts which tokens one sequence may produce next (a grammar). Created on the caller's thread when a
/// request is admitted; after that only the scheduler thread touches it, which disposes it when the
/// sequence ends.
/// </summary>
public interface ITokenConstraint : IDisposable
{
    /// <summary>
    /// Sets the logit of every token the constraint forbids now to negative infinity. End-of-generation
    /// tokens stay allowed only when the text so far is complete.
    /// </summary>
    void Apply(Span<float> logits);

    /// <summary>
    /// Advances the constraint past <paramref name="token"/>. Throws <see cref="Errors.EngineException"/>
    /// (without touching native state) when the last <see cref="Apply"/> forbade it.
    /// </summary>
    void Accept(int token);
}
