using LLama.Native;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;

namespace SovereignInference.LlamaCpp;

/// <summary>
/// Builds llama.cpp grammar samplers (through LLamaSharp's sampler chain) for one model's vocabulary.
/// The grammar is validated in managed code first: LLamaSharp adds llama.cpp's null sampler for a grammar
/// that does not parse to the chain unchecked, and some grammars hang or crash llama.cpp's parser.
/// </summary>
internal sealed class LlamaConstraintFactory(SafeLlamaModelHandle model, int vocabSize) : IConstraintFactory
{
    public ITokenConstraint Create(GrammarSpec spec)
    {
        GbnfValidator.Validate(spec);
        var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        try
        {
            chain.AddGrammar(model.Vocab, spec.Gbnf, spec.Root);

            // Belt and braces: a null sampler in the chain would crash at the first apply.
            if (NativeSamplers.llama_sampler_chain_get(chain.DangerousGetHandle(), 0) == 0)
            {
                throw EngineException.Invalid("response_format", "Invalid grammar: llama.cpp could not parse it");
            }

            return new LlamaGrammarConstraint(chain, vocabSize);
        }
        catch
        {
            chain.Dispose();
            throw;
        }
    }
}
