using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Gguf;

/// <summary>
/// The reproductions really abort llama.cpp when nothing stands in the way (shown in a child process, never in
/// the test host), and the model validator refuses each of them; the unmutated base loads and decodes in the same probe.
/// </summary>
public sealed class NativeAbortTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> AbortingCases => ["block-count-0", "expert-count-100000", "expert-used-without-experts", "rms-epsilon-nan"];

    /// <summary>
    /// Further corpus files that kill llama.cpp b9297 (found by running the probe over the whole corpus): a GGML_ASSERT
    /// or GGML_ABORT (SIGABRT, 134) or a segmentation fault (SIGSEGV, 139), at load or on the first decode.
    /// </summary>
    public static TheoryData<string> OtherCrashingCases =>
    [
        "block-count-513", "block-count-max-uint", "expert-count-513", "expert-used-exceeds-count", "experts-but-none-used",
        "expert-groups-without-experts", "feed-forward-string-array", "head-count-per-layer-float-array",
        "head-count-kv-per-layer-negative", "rms-epsilon-negative", "rope-scaling-type-unknown", "token-duplicated",
        "tokenizer-model-no-vocab", "token-embd-f64", "attn-q-i32", "attn-output-q8_1", "attn-norm-f16", "output-norm-q8_0",
    ];

    [Fact]
    public async Task The_unmutated_base_loads_and_decodes_in_the_child_probe()
    {
        var path = _dir.File("base.gguf");
        await File.WriteAllBytesAsync(path, new GgufMutator(SemanticGgufCorpus.Base()).Build());

        var (exit, output) = await NativeLoadProbe.RunAsync(path, TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, output);
        Assert.Contains("decoded", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(AbortingCases))]
    public async Task Without_the_validator_llama_cpp_aborts_the_process_and_the_validator_refuses_the_file(string caseName)
    {
        var path = _dir.File(caseName + ".gguf");
        await File.WriteAllBytesAsync(path, SemanticGgufCorpus.Build(caseName));

        var (exit, output) = await NativeLoadProbe.RunAsync(path, TimeSpan.FromMinutes(2));

        if (NativeBuild.IsPackaged)
        {
            Assert.True(exit == 134, $"expected SIGABRT (134), got {exit}:\n{output}");
            Assert.Contains("GGML_ASSERT", output, StringComparison.Ordinal);
        }
        else
        {
            AssertNeverDecodes(exit, output);
        }

        var refused = Assert.Throws<GgufFormatException>(() => GgufReader.ReadModel(path));
        Assert.Equal(SemanticGgufCorpus.Get(caseName).Expected, refused.Error);
    }

    [Theory]
    [MemberData(nameof(OtherCrashingCases))]
    public async Task Other_corpus_files_crash_llama_cpp_by_a_signal_and_are_refused(string caseName)
    {
        var path = _dir.File(caseName + ".gguf");
        await File.WriteAllBytesAsync(path, SemanticGgufCorpus.Build(caseName));

        var (exit, output) = await NativeLoadProbe.RunAsync(path, TimeSpan.FromMinutes(2));

        if (NativeBuild.IsPackaged)
        {
            Assert.True(exit is 134 or 139, $"expected SIGABRT (134) or SIGSEGV (139), got {exit}:\n{output}");
            Assert.DoesNotContain("load failed cleanly", output, StringComparison.Ordinal);
        }
        else
        {
            AssertNeverDecodes(exit, output);
        }

        var refused = Assert.Throws<GgufFormatException>(() => GgufReader.ReadModel(path));
        Assert.Equal(SemanticGgufCorpus.Get(caseName).Expected, refused.Error);
    }

    /// <summary>
    /// On a self-built llama.cpp (another version than b9297) a file may abort it or be refused by its loader
    /// (b9842 refuses block-count-513 and block-count-max-uint cleanly): either way nothing is decoded from it.
    /// </summary>
    private static void AssertNeverDecodes(int exit, string output) =>
        Assert.True(exit is 134 or 139 or NativeLoadProbe.CleanFailure, $"expected an abort or a clean load failure, got {exit}:\n{output}");
}
