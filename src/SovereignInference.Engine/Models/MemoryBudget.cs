using System.Globalization;

namespace SovereignInference.Engine.Models;

/// <summary>
/// The memory loaded models may occupy together: <c>--memory-budget</c> as bytes (with an optional K/M/G/T suffix,
/// powers of 1024) or a percentage of what is free at start; default: what is free at start less a 10% margin.
/// </summary>
public static class MemoryBudget
{
    /// <summary>Share of the free memory kept back when no budget is configured.</summary>
    public const double DefaultMargin = 0.10;

    public static long Resolve(string? setting, long freeAtStart)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return (long)(freeAtStart * (1 - DefaultMargin));
        }

        var text = setting.Trim();
        if (text.EndsWith('%'))
        {
            if (!double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent is <= 0 or > 100)
            {
                throw new ArgumentException($"memory-budget percentage must be in (0, 100] (got '{setting}')");
            }

            return (long)(freeAtStart * percent / 100);
        }

        var multiplier = 1L;
        var last = char.ToUpperInvariant(text[^1]);
        if (last == 'B')
        {
            text = text[..^1];
            last = text.Length > 0 ? char.ToUpperInvariant(text[^1]) : ' ';
        }

        var suffixes = "KMGT";
        var index = suffixes.IndexOf(last, StringComparison.Ordinal);
        if (index >= 0)
        {
            multiplier = 1L << (10 * (index + 1));
            text = text[..^1];
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            throw new ArgumentException($"memory-budget must be bytes (e.g. 8G, 512M, 1073741824) or a percentage (e.g. 80%) (got '{setting}')");
        }

        return (long)(amount * multiplier);
    }
}
