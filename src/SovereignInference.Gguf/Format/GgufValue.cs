using System.Globalization;

namespace SovereignInference.Gguf;

/// <summary>
/// An immutable, typed GGUF metadata value: a scalar, a string, or a (non-nested) array of one element type.
/// Arrays are held as typed CLR arrays (<c>float[]</c>, <c>int[]</c>, <c>string[]</c>, ...).
/// </summary>
public sealed class GgufValue
{
    private readonly object _value;

    private GgufValue(GgufValueType type, GgufValueType elementType, object value)
    {
        Type = type;
        ElementType = elementType;
        _value = value;
    }

    /// <summary>The value type; <see cref="GgufValueType.Array"/> for arrays.</summary>
    public GgufValueType Type { get; }

    /// <summary>For arrays, the element type; for scalars, the same as <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>Whether this value is an array.</summary>
    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of array elements (0 for scalars).</summary>
    public int ArrayLength => _value is Array a ? a.Length : 0;

    /// <summary>The underlying CLR value (a boxed scalar, a string, or a typed array).</summary>
    public object RawValue => _value;

    /// <summary>Creates a <c>uint8</c> value.</summary>
    public static GgufValue FromUInt8(byte value) => new(GgufValueType.UInt8, GgufValueType.UInt8, value);
    /// <summary>Creates an <c>int8</c> value.</summary>
    public static GgufValue FromInt8(sbyte value) => new(GgufValueType.Int8, GgufValueType.Int8, value);
    /// <summary>Creates a <c>uint16</c> value.</summary>
    public static GgufValue FromUInt16(ushort value) => new(GgufValueType.UInt16, GgufValueType.UInt16, value);
    /// <summary>Creates an <c>int16</c> value.</summary>
    public static GgufValue FromInt16(short value) => new(GgufValueType.Int16, GgufValueType.Int16, value);
    /// <summary>Creates a <c>uint32</c> value.</summary>
    public static GgufValue FromUInt32(uint value) => new(GgufValueType.UInt32, GgufValueType.UInt32, value);
    /// <summary>Creates an <c>int32</c> value.</summary>
    public static GgufValue FromInt32(int value) => new(GgufValueType.Int32, GgufValueType.Int32, value);
    /// <summary>Creates a <c>uint64</c> value.</summary>
    public static GgufValue FromUInt64(ulong value) => new(GgufValueType.UInt64, GgufValueType.UInt64, value);
    /// <summary>Creates an <c>int64</c> value.</summary>
    public static GgufValue FromInt64(long value) => new(GgufValueType.Int64, GgufValueType.Int64, value);
    /// <summary>Creates a <c>float32</c> value.</summary>
    public static GgufValue FromFloat32(float value) => new(GgufValueType.Float32, GgufValueType.Float32, value);
    /// <summary>Creates a <c>float64</c> value.</summary>
    public static GgufValue FromFloat64(double value) => new(GgufValueType.Float64, GgufValueType.Float64, value);
    /// <summary>Creates a <c>bool</c> value.</summary>
    public static GgufValue FromBool(bool value) => new(GgufValueType.Bool, GgufValueType.Bool, value);

    /// <summary>Creates a <c>string</c> value.</summary>
    public static GgufValue FromString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(GgufValueType.String, GgufValueType.String, value);
    }

    /// <summary>Creates a string array.</summary>
    public static GgufValue FromStringArray(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var array = values.ToArray();
        if (Array.IndexOf(array, null) >= 0)
        {
            throw new ArgumentException("String arrays cannot contain null.", nameof(values));
        }

        return new(GgufValueType.Array, GgufValueType.String, array);
    }

    /// <summary>Creates a <c>float32</c> array.</summary>
    public static GgufValue FromFloat32Array(ReadOnlySpan<float> values) => new(GgufValueType.Array, GgufValueType.Float32, values.ToArray());
    /// <summary>Creates a <c>float64</c> array.</summary>
    public static GgufValue FromFloat64Array(ReadOnlySpan<double> values) => new(GgufValueType.Array, GgufValueType.Float64, values.ToArray());
    /// <summary>Creates an <c>int32</c> array.</summary>
    public static GgufValue FromInt32Array(ReadOnlySpan<int> values) => new(GgufValueType.Array, GgufValueType.Int32, values.ToArray());
    /// <summary>Creates a <c>uint32</c> array.</summary>
    public static GgufValue FromUInt32Array(ReadOnlySpan<uint> values) => new(GgufValueType.Array, GgufValueType.UInt32, values.ToArray());
    /// <summary>Creates an <c>int64</c> array.</summary>
    public static GgufValue FromInt64Array(ReadOnlySpan<long> values) => new(GgufValueType.Array, GgufValueType.Int64, values.ToArray());
    /// <summary>Creates a <c>uint64</c> array.</summary>
    public static GgufValue FromUInt64Array(ReadOnlySpan<ulong> values) => new(GgufValueType.Array, GgufValueType.UInt64, values.ToArray());
    /// <summary>Creates a <c>uint8</c> array.</summary>
    public static GgufValue FromUInt8Array(ReadOnlySpan<byte> values) => new(GgufValueType.Array, GgufValueType.UInt8, values.ToArray());
    /// <summary>Creates an <c>int8</c> array.</summary>
    public static GgufValue FromInt8Array(ReadOnlySpan<sbyte> values) => new(GgufValueType.Array, GgufValueType.Int8, values.ToArray());
    /// <summary>Creates a <c>uint16</c> array.</summary>
    public static GgufValue FromUInt16Array(ReadOnlySpan<ushort> values) => new(GgufValueType.Array, GgufValueType.UInt16, values.ToArray());
    /// <summary>Creates an <c>int16</c> array.</summary>
    public static GgufValue FromInt16Array(ReadOnlySpan<short> values) => new(GgufValueType.Array, GgufValueType.Int16, values.ToArray());
    /// <summary>Creates a <c>bool</c> array.</summary>
    public static GgufValue FromBoolArray(ReadOnlySpan<bool> values) => new(GgufValueType.Array, GgufValueType.Bool, values.ToArray());

    /// <summary>Wraps an already typed array without copying (used by the reader).</summary>
    internal static GgufValue WrapArray(GgufValueType elementType, Array values) => new(GgufValueType.Array, elementType, values);

    /// <summary>Wraps a boxed scalar of the given type (used by the reader).</summary>
    internal static GgufValue WrapScalar(GgufValueType type, object value) => new(type, type, value);

    /// <summary>Whether the value is an integer scalar (any width or signedness).</summary>
    public bool IsInteger => !IsArray && Type is not (GgufValueType.Float32 or GgufValueType.Float64 or GgufValueType.Bool or GgufValueType.String);

    /// <summary>Reads an integer scalar as <see cref="long"/>; false if not an integer or out of range.</summary>
    public bool TryGetInt64(out long value)
    {
        switch (_value)
        {
            case byte b: value = b; return true;
            case sbyte sb: value = sb; return true;
            case ushort us: value = us; return true;
            case short s: value = s; return true;
            case uint ui: value = ui; return true;
            case int i: value = i; return true;
            case long l: value = l; return true;
            case ulong ul when ul <= long.MaxValue: value = (long)ul; return true;
            default: value = 0; return false;
        }
    }

    /// <summary>Reads an integer scalar as <see cref="long"/>.</summary>
    /// <exception cref="InvalidOperationException">The value is not an integer that fits in a long.</exception>
    public long AsInt64() => TryGetInt64(out var v) ? v : throw WrongType("integer");

    /// <summary>Reads any numeric scalar (integer or float) as <see cref="double"/>.</summary>
    public double AsDouble() => _value switch
    {
        float f => f,
        double d => d,
        ulong ul => ul,
        _ when TryGetInt64(out var l) => l,
        _ => throw WrongType("number"),
    };

    /// <summary>Reads a boolean scalar.</summary>
    public bool AsBool() => _value is bool b ? b : throw WrongType("bool");

    /// <summary>Reads a string scalar.</summary>
    public string AsString() => _value is string s ? s : throw WrongType("string");

    /// <summary>Returns the array elements as <typeparamref name="T"/> (e.g. <c>string</c>, <c>float</c>, <c>int</c>).</summary>
    /// <exception cref="InvalidOperationException">The value is not an array of <typeparamref name="T"/>.</exception>
    public IReadOnlyList<T> AsArray<T>() => _value is T[] array ? array : throw WrongType($"{typeof(T).Name}[]");

    /// <summary>Reads array element <paramref name="index"/> of an integer array as <see cref="long"/>.</summary>
    public long GetArrayInt64(int index) => _value switch
    {
        byte[] a => a[index],
        sbyte[] a => a[index],
        ushort[] a => a[index],
        short[] a => a[index],
        uint[] a => a[index],
        int[] a => a[index],
        long[] a => a[index],
        ulong[] a => checked((long)a[index]),
        _ => throw WrongType("integer array"),
    };

    /// <inheritdoc />
    public override string ToString()
    {
        if (_value is Array array)
        {
            var preview = array.Cast<object>().Take(8).Select(FormatScalar);
            var more = array.Length > 8 ? ", ..." : "";
            return $"[{string.Join(", ", preview)}{more}] ({array.Length} x {ElementType})";
        }

        return FormatScalar(_value);
    }

    private static string FormatScalar(object value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private InvalidOperationException WrongType(string expected) =>
        new($"GGUF value of type {(IsArray ? $"{ElementType}[]" : Type.ToString())} is not a {expected}.");
}
