using SovereignInference.LlamaCpp;

namespace SovereignInference.Tests.TestSupport;

/// <summary>Which llama.cpp this run loads: LLamaSharp's packaged b9297, or a self-built one (scripts/native/test-with-native.sh).</summary>
public static class NativeBuild
{
    /// <summary>False when Sovereign__NativeLibDir points the run at another build; facts about b9297's own failures hold only on it.</summary>
    public static bool IsPackaged => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(LlamaBackend.NativeLibDirVariable));
}
