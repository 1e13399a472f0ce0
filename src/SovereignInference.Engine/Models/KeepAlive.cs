using System.Globalization;
using System.Text.RegularExpressions;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Models;

/// <summary>
/// Ollama's keep_alive: a duration ("10m", "1h30m", "45s", "500ms") or a number of seconds; 0 unloads as soon as the
/// model is idle; a negative value keeps it loaded.
/// </summary>
public static partial class KeepAlive
{
    /// <summary>Parses <paramref name="text"/>; <paramref name="value"/> is null for "keep loaded" (negative).</summary>
    public static bool TryParse(string? text, out TimeSpan? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            if (double.IsNaN(seconds) || double.IsInfinity(seconds))
            {
                return false;
            }

            value = seconds < 0 ? null : TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2));
            return true;
        }

        var negative = text.StartsWith('-');
        var body = negative ? text[1..] : text;
        var matches = DurationPart().Matches(body);
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != body)
        {
            return false;
        }

        var total = TimeSpan.Zero;
        foreach (Match m in matches)
        {
            var amount = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "s" => TimeSpan.FromSeconds(amount),
                _ => TimeSpan.FromMilliseconds(amount),
            };
        }

        value = negative && total > TimeSpan.Zero ? null : total;
        return true;
    }

    /// <summary>Parses or throws <see cref="SettingException"/> naming <paramref name="what"/>.</summary>
    public static TimeSpan? Parse(string text, string what) => TryParse(text, out var value)
        ? value
        : throw new SettingException($"{what} must be a duration such as \"5m\", \"90s\" or \"1h30m\", or seconds (0 = unload when idle, negative = keep loaded); got '{text}'", what);

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|h|m|s)")]
    private static partial Regex DurationPart();
}
