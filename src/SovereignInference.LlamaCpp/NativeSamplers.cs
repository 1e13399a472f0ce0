using System.Runtime.InteropServices;

namespace SovereignInference.LlamaCpp;

/// <summary>
/// Sampler-chain calls LLamaSharp does not bind. "llama" resolves to the library LLamaSharp already loaded.
/// </summary>
internal static partial class NativeSamplers
{
    /// <summary>The i-th sampler of a chain, or null: reads a pointer, dereferences nothing.</summary>
    [LibraryImport("llama")]
    internal static partial nint llama_sampler_chain_get(nint chain, int i);
}
