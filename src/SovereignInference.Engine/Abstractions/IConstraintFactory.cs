using SovereignInference.Engine.Grammar;

namespace SovereignInference.Engine.Abstractions;

/// <summary>Builds token constraints for one loaded model's vocabulary. Thread-safe.</summary>
public interface IConstraintFactory
{
    /// <summary>
    /// A fresh constraint for <paramref name="spec"/>. Throws <see cref="Errors.EngineException"/>
    /// (InvalidArgument, param <c>response_format</c>) for a grammar that does not parse.
    /// </summary>
    ITokenConstraint Create(GrammarSpec spec);
}
