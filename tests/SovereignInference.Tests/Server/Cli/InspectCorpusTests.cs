using SovereignInference.Gguf;
using SovereignInference.Server.Cli;
using SovereignInference.Tests.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Cli;

/// <summary>`sovereign models inspect` refuses every malformed corpus file (structural and semantic) with its reason.</summary>
public sealed class InspectCorpusTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string> AllCases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var name in MalformedGgufCorpus.Names)
            {
                data.Add("structural", name);
            }

            foreach (var name in SemanticGgufCorpus.Names)
            {
                data.Add("semantic", name);
            }

            return data;
        }
    }

    private static (int ExitCode, string Out, string Error) Inspect(string path) =>
        CommandLineRunner.InvokeAsync([ModelsCommand.Create()], "models", "inspect", path).GetAwaiter().GetResult();

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Inspect_refuses_the_corpus_file_with_a_non_zero_exit_and_the_reason(string kind, string caseName)
    {
        var (bytes, expected, mentions) = kind == "semantic"
            ? (SemanticGgufCorpus.Build(caseName), SemanticGgufCorpus.Get(caseName).Expected, SemanticGgufCorpus.Get(caseName).Mentions)
            : (MalformedGgufCorpus.Get(caseName).Build(), MalformedGgufCorpus.Get(caseName).Expected, "");
        var path = _dir.File(caseName + ".gguf");
        File.WriteAllBytes(path, bytes);

        var result = Inspect(path);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Contains(path, result.Error, StringComparison.Ordinal);
        Assert.Contains($"({expected}", result.Error, StringComparison.Ordinal);
        Assert.Contains(mentions, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_accepts_the_unmutated_base()
    {
        var path = _dir.File("base.gguf");
        File.WriteAllBytes(path, new GgufMutator(SemanticGgufCorpus.Base()).Build());

        var result = Inspect(path);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("llama", result.Out, StringComparison.Ordinal);
        Assert.Equal("", result.Error);
    }
}
