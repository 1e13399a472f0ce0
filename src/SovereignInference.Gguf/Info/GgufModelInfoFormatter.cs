using System.Globalization;
using System.Text;

namespace SovereignInference.Gguf;

/// <summary>Formats <see cref="GgufModelInfo"/> and sizes for people.</summary>
public static class GgufModelInfoFormatter
{
    /// <summary>Multi-line summary: architecture, parameters, quantization, context, vocab, template, size, SHA-256.</summary>
    public static string Format(GgufModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var sb = new StringBuilder();
        void Line(string label, string value) => sb.Append(CultureInfo.InvariantCulture, $"{label + ":",-17}{value}\n");
        string Opt(long? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "?";

        Line("File", info.Path);
        Line("Name", info.Name ?? "(none)");
        Line("Architecture", info.Architecture);
        Line("Parameters", $"{FormatCount(info.ParameterCount)} ({info.TensorCount} tensors)");
        Line("Quantization", info.Quantization);
        Line("Context length", Opt(info.ContextLength));
        Line("Shape", $"n_embd {Opt(info.EmbeddingLength)}, layers {Opt(info.BlockCount)}, heads {Opt(info.HeadCount)}, kv heads {Opt(info.HeadCountKv)}, ffn {Opt(info.FeedForwardLength)}");
        Line("Vocabulary", $"{info.VocabSize} tokens ({info.VocabType ?? "unknown"})");
        Line("Chat template", info.HasChatTemplate ? "yes" : "no");
        Line("Size", $"{FormatBytes(info.FileSize)} ({info.FileSize.ToString("N0", CultureInfo.InvariantCulture)} bytes)");
        Line("SHA-256", info.Sha256 ?? "(not computed)");
        return sb.ToString();
    }

    /// <summary>Formats a parameter count like <c>101.2M</c>, <c>7.2B</c> or <c>950</c>.</summary>
    public static string FormatCount(long count) => count switch
    {
        >= 1_000_000_000 => (count / 1e9).ToString("0.0", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (count / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (count / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "K",
        _ => count.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Formats a byte count in binary units like <c>193.2 MiB</c>.</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? $"{bytes} B"
            : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
