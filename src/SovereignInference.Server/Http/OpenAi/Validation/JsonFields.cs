using System.Globalization;
using System.Text.Json;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>Typed reads of request fields; a wrong type or range throws InvalidArgument naming the field.</summary>
internal static class JsonFields
{
    public static bool TryGet(JsonElement obj, string name, out JsonElement value)
    {
        if (obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    public static string? String(JsonElement obj, string name, string? path = null)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Invalid(path ?? name, "must be a string");
    }

    public static bool? Bool(JsonElement obj, string name)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(name, "must be true or false"),
        };
    }

    public static double? Number(JsonElement obj, string name, double min, double max)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d))
        {
            throw Invalid(name, "must be a finite number");
        }

        if (d < min || d > max)
        {
            throw Invalid(name, $"must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)} (got {d.ToString(CultureInfo.InvariantCulture)})");
        }

        return d;
    }

    public static long? Integer(JsonElement obj, string name, long min, long max)
    {
        if (!TryGet(obj, name, out var v))
        {
            return null;
        }

        return IntegerValue(v, name, min, max);
    }

    public static long IntegerValue(JsonElement v, string path, long min, long max)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n))
        {
            throw Invalid(path, $"must be an integer between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}");
        }

        if (n < min || n > max)
        {
            throw Invalid(path, $"must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)} (got {n.ToString(CultureInfo.InvariantCulture)})");
        }

        return n;
    }

    /// <summary>
    /// A JSON array of token ids (each an integer 0..int.MaxValue, errors naming "path[i]"). Whether each id is inside
    /// the model's vocabulary is the engine's check (<see cref="Engine.Admission.InputChecks"/>), made once it knows the model.
    /// </summary>
    public static List<int> TokenIds(JsonElement array, string path)
    {
        var tokens = new List<int>(array.GetArrayLength());
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            tokens.Add((int)IntegerValue(item, $"{path}[{i++}]", 0, int.MaxValue));
        }

        return tokens;
    }

    public static EngineException Invalid(string path, string rule) => EngineException.Invalid(path, $"'{path}' {rule}");

    public static EngineException Unsupported(string path, string what) => EngineException.Invalid(path, $"'{path}' is not supported: {what}");
}
