using SovereignInference.Engine.Abstractions;

namespace SovereignInference.Engine.Grammar;

/// <summary>
/// A constraint that starts once <paramref name="trigger"/> is generated (a lazy grammar, as llama.cpp's
/// grammar_lazy): before it every token is allowed, after it <paramref name="inner"/> decides from its start rule.
/// </summary>
internal sealed class LazyConstraint(int trigger, ITokenConstraint inner) : ITokenConstraint
{
    private bool _active;

    public void Apply(Span<float> logits)
    {
        if (_active)
        {
            inner.Apply(logits);
        }
    }

    public void Accept(int token)
    {
        if (_active)
        {
            inner.Accept(token);
        }
        else if (token == trigger)
        {
            _active = true;
        }
    }

    public void Dispose() => inner.Dispose();
}
