using SovereignInference.LlamaCpp;

namespace SovereignInference.Tests.LlamaCpp;

/// <summary>Which llama.cpp build this test run is on (scripts/native/test-with-native.sh runs the suite on a self-built one).</summary>
public sealed class NativeLibraryTests
{
    /// <summary>
    /// With Sovereign__NativeLibDir set, every backend in this process loads libllama from that directory (so a run
    /// of the suite on a self-built llama.cpp really ran on it); without it, the packaged library beside the tests.
    /// </summary>
    [Fact]
    public void The_loaded_libllama_is_the_one_Sovereign__NativeLibDir_names_or_else_the_packaged_one()
    {
        var description = new LlamaBackend().Description;
        const string Marker = "; library: ";
        var start = description.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length;
        var library = description[start..description.IndexOf("; system: ", start, StringComparison.Ordinal)];

        var expectedDir = Environment.GetEnvironmentVariable(LlamaBackend.NativeLibDirVariable) is { Length: > 0 } dir
            ? Path.GetFullPath(dir)
            : Path.GetFullPath(AppContext.BaseDirectory);
        Assert.StartsWith(expectedDir.TrimEnd('/') + "/", Path.GetFullPath(library), StringComparison.Ordinal);
    }
}
