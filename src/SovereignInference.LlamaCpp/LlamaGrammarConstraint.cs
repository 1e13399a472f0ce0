using LLama.Native;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;

namespace SovereignInference.LlamaCpp;

/// <summary>
/// One sequence's llama.cpp grammar sampler. <see cref="Apply"/> runs it over the whole vocabulary and masks
/// what it rejects; <see cref="Accept"/> only forwards tokens the last apply allowed, because llama.cpp
/// aborts (end-of-generation while incomplete) or throws across the C boundary (any other rejected token)
/// when it is fed one it would have rejected. Used by one thread at a time.
/// </summary>
internal sealed class LlamaGrammarConstraint : ITokenConstraint
{
    private readonly SafeLLamaSamplerChainHandle _chain;
    private readonly LLamaTokenData[] _candidates;
    private readonly bool[] _allowed;
    private bool _applied;

    public LlamaGrammarConstraint(SafeLLamaSamplerChainHandle chain, int vocabSize)
    {
        _chain = chain;
        _candidates = new LLamaTokenData[vocabSize];
        _allowed = new bool[vocabSize];
    }

    public void Apply(Span<float> logits)
    {
        if (logits.Length != _candidates.Length)
        {
            throw new EngineException(EngineErrorCode.BackendFailure, $"logits row has {logits.Length} entries, the vocabulary {_candidates.Length}");
        }

        var array = LLamaTokenDataArray.Create(logits, _candidates);
        using (LLamaTokenDataArrayNative.Create(array, out var native))
        {
            _chain.Apply(ref native);
        }

        Array.Clear(_allowed);
        foreach (var candidate in _candidates)
        {
            var id = (int)candidate.ID;
            if ((uint)id < (uint)_allowed.Length && !float.IsNegativeInfinity(candidate.Logit))
            {
                _allowed[id] = true;
            }
        }

        for (var i = 0; i < logits.Length; i++)
        {
            if (!_allowed[i])
            {
                logits[i] = float.NegativeInfinity;
            }
        }

        _applied = true;
    }

    public void Accept(int token)
    {
        if (!_applied || (uint)token >= (uint)_allowed.Length || !_allowed[token])
        {
            throw new EngineException(EngineErrorCode.BackendFailure, $"token {token} is not allowed by the grammar here");
        }

        _applied = false;
        _chain.Accept((LLamaToken)token);
    }

    public void Dispose() => _chain.Dispose();
}
