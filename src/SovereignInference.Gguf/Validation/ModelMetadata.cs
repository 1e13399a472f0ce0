using System.Globalization;

namespace SovereignInference.Gguf;

/// <summary>
/// Typed access to the metadata of one model file the way llama.cpp's <c>llama_model_loader::get_key</c> and
/// <c>get_key_or_arr</c> read it: a scalar must have exactly the expected GGUF type (llama.cpp throws otherwise),
/// and a per-layer array must be an int32/uint32 array of exactly <c>block_count</c> elements (llama.cpp aborts on
/// a float or string array). Every failure becomes a <see cref="GgufFormatException"/> naming the key and value.
/// </summary>
internal sealed class ModelMetadata(GgufFile file)
{
    public GgufFile File { get; } = file;

    public GgufFormatException Fail(GgufError error, string reason) => new(error, File.SourceName, reason);

    public GgufFormatException Invalid(string key, string reason, GgufError error = GgufError.InvalidHyperparameter) =>
        Fail(error, $"'{key}' {reason}");

    /// <summary>A required <c>uint32</c> (llama.cpp: <c>get_key(kid, uint32_t&amp;)</c>).</summary>
    public uint RequiredUInt32(string key) =>
        OptionalUInt32(key) ?? throw Invalid(key, "is required but missing");

    public uint? OptionalUInt32(string key, GgufError error = GgufError.InvalidHyperparameter)
    {
        if (File.Get(key) is not { } v)
        {
            return null;
        }

        return v is { Type: GgufValueType.UInt32, RawValue: uint u }
            ? u
            : throw Invalid(key, $"must be a UInt32 but is {Describe(v)}", error);
    }

    /// <summary>A required <c>float32</c> (llama.cpp: <c>get_key(kid, float&amp;)</c>).</summary>
    public float RequiredFloat32(string key) =>
        OptionalFloat32(key) ?? throw Invalid(key, "is required but missing");

    public float? OptionalFloat32(string key)
    {
        if (File.Get(key) is not { } v)
        {
            return null;
        }

        return v is { Type: GgufValueType.Float32, RawValue: float f }
            ? f
            : throw Invalid(key, $"must be a Float32 but is {Describe(v)}");
    }

    public bool? OptionalBool(string key, GgufError error = GgufError.InvalidHyperparameter)
    {
        if (File.Get(key) is not { } v)
        {
            return null;
        }

        return v is { Type: GgufValueType.Bool, RawValue: bool b }
            ? b
            : throw Invalid(key, $"must be a Bool but is {Describe(v)}", error);
    }

    public string? OptionalString(string key, GgufError error = GgufError.InvalidHyperparameter)
    {
        if (File.Get(key) is not { } v)
        {
            return null;
        }

        return v is { Type: GgufValueType.String, RawValue: string s }
            ? s
            : throw Invalid(key, $"must be a String but is {Describe(v)}", error);
    }

    /// <summary>
    /// A value that is either one <c>uint32</c> for every layer or an int32/uint32 array with one value per layer
    /// (llama.cpp: <c>get_key_or_arr</c>); null when absent.
    /// </summary>
    public long[]? PerLayer(string key, int layers)
    {
        if (File.Get(key) is not { } v)
        {
            return null;
        }

        if (!v.IsArray)
        {
            var scalar = OptionalUInt32(key)!.Value;
            return Enumerable.Repeat((long)scalar, layers).ToArray();
        }

        if (v.ElementType is not (GgufValueType.Int32 or GgufValueType.UInt32))
        {
            throw Invalid(key, $"must be a UInt32 or an array of Int32/UInt32 but is {Describe(v)}");
        }

        if (v.ArrayLength != layers)
        {
            throw Invalid(key, $"has {v.ArrayLength} per-layer values but block_count is {layers}");
        }

        var values = new long[layers];
        for (var i = 0; i < layers; i++)
        {
            values[i] = v.GetArrayInt64(i);
            if (values[i] < 0)
            {
                throw Invalid(key, $"has the negative value {values[i]} for layer {i}");
            }
        }

        return values;
    }

    public static string Describe(GgufValue v) => v.IsArray ? $"an array of {v.ElementType}" : $"a {v.Type}";

    public static string Show(float f) => f.ToString("R", CultureInfo.InvariantCulture);
}
