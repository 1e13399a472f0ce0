using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SovereignInference.Gguf;

/// <summary>
/// Generated models cached in a temp directory, for tests, <c>sovereign make-model</c> and the server demo.
/// Files are keyed by a hash of their spec and written atomically (temp file + rename), so concurrent test
/// processes can share them; generation is deterministic, so a cached file always matches its spec.
/// </summary>
public static class TestModels
{
    /// <summary>Bump when generated file contents change, to invalidate cached files.</summary>
    /// <summary>Bumped whenever generated files change (vocabulary, tensors): caches keyed by it regenerate.</summary>
    public const string GeneratorVersion = "2";

    private static readonly ConcurrentDictionary<string, Lazy<GeneratedModel>> Cache = new(StringComparer.Ordinal);

    /// <summary>Where cached models live (default: <c>{temp}/sovereign-test-models</c>).</summary>
    public static string CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "sovereign-test-models");

    /// <summary>The "tiny" random model (2 layers, n_embd 128) with the given weight type.</summary>
    public static GeneratedModel Tiny(GgmlType tensorType = GgmlType.F16) =>
        Random(RandomModelSpec.Tiny with { Shape = ModelShape.Tiny with { TensorType = tensorType } });

    /// <summary>The demo model (<see cref="TestModelGenerator.DemoSpec"/>).</summary>
    public static GeneratedModel Demo() => Scripted(TestModelGenerator.DemoSpec);

    /// <summary>A cached random model.</summary>
    public static GeneratedModel Random(RandomModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var key = Key("random", spec.Name, spec.Shape.ToString(), string.Join('\u0001', spec.ExtraPieces), (spec.ChatTemplate ?? "\u0000")
            + (spec.ExtraControlTokens.Count > 0 ? "\u0004" + string.Join('\u0001', spec.ExtraControlTokens) : "")
            + (spec.TokenizerFile is { } file ? "\u0005" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))) : ""));
        return GetOrCreate(key, path =>
        {
            return (TestModelGenerator.PlanRandom(path, spec), () => TestModelGenerator.WriteRandom(path, spec));
        });
    }

    /// <summary>A cached scripted model.</summary>
    public static GeneratedModel Scripted(ScriptedModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var key = Key("scripted", spec.Name, string.Join('\u0001', spec.Transitions.Select(t => t.From + "\u0002" + t.To)),
            spec.DefaultNext, string.Join('\u0001', spec.ExtraPieces), spec.ChatTemplate ?? "\u0000",
            spec.ContextLength.ToString(CultureInfo.InvariantCulture), spec.TensorType.ToString(),
            spec.NextTokenLogit.ToString("R", CultureInfo.InvariantCulture)
                + (spec.ExtraControlTokens.Count > 0 ? "\u0004" + string.Join('\u0001', spec.ExtraControlTokens) : "")
                + (spec.TokenizerFile is { } file ? "\u0005" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))) : ""));
        return GetOrCreate(key, path =>
        {
            var (model, _, _) = TestModelGenerator.PlanScripted(path, spec);
            return (model, () => TestModelGenerator.WriteScripted(path, spec));
        });
    }

    private static string Key(params string[] parts)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(GeneratorVersion + "\u0003" + string.Join('\u0003', parts)));
        return parts[1] + "-" + Convert.ToHexStringLower(hash)[..16];
    }

    private static GeneratedModel GetOrCreate(string key, Func<string, (GeneratedModel Model, Action Write)> plan) =>
        Cache.GetOrAdd(key, k => new Lazy<GeneratedModel>(() =>
        {
            Directory.CreateDirectory(CacheDirectory);
            var path = Path.Combine(CacheDirectory, k + ".gguf");
            if (File.Exists(path))
            {
                return plan(path).Model;
            }

            var temp = Path.Combine(CacheDirectory, $"{k}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            var (tempModel, write) = plan(temp);
            try
            {
                write();
                File.Move(temp, path, overwrite: true);
            }
            finally
            {
                File.Delete(temp);
            }

            return tempModel with { Path = path };
        })).Value;
}
