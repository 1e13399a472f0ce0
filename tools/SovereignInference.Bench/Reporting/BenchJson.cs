using System.Text.Json;
using System.Text.Json.Serialization;
using SovereignInference.Bench.Stats;

namespace SovereignInference.Bench.Reporting;

/// <summary>Writes <see cref="BenchReport"/> as indented snake_case JSON (source-generated serializer).</summary>
internal static class BenchJson
{
    public static string Serialize(BenchReport report) => JsonSerializer.Serialize(report, BenchJsonContext.Default.BenchReport);

    public static async Task WriteAsync(string path, BenchReport report, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, report, BenchJsonContext.Default.BenchReport, cancellationToken);
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(LevelStatistics))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
