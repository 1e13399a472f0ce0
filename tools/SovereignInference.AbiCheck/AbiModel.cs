namespace SovereignInference.AbiCheck;

/// <summary>
/// How a value travels across the native boundary on a 64-bit System V / Windows x64 ABI: in an integer register
/// (integers, enums, bools, pointers), a floating-point register, by value as a struct, or not at all.
/// </summary>
public enum AbiClass
{
    Void,
    Integer,
    Float,
    Aggregate,
}

/// <summary>One type as the ABI sees it: class and size, and for display what it was (pointer, enum, struct name).</summary>
/// <param name="SingleFieldStruct">A managed struct of one field (LLamaToken, LLamaSamplerChainParams): passed as that field is.</param>
public sealed record AbiType(AbiClass Class, int Size, string Display, bool SingleFieldStruct = false)
{
    public static readonly AbiType Void = new(AbiClass.Void, 0, "void");

    public static AbiType Pointer(string display) => new(AbiClass.Integer, IntPtr.Size, display);

    /// <summary>Same registers, same bytes: what matters for a call or a field to line up.</summary>
    public bool IsCompatibleWith(AbiType other) =>
        Size == other.Size && (Class == other.Class
            // A struct of one scalar travels as that scalar on the x64 and arm64 calling conventions.
            || (SingleFieldStruct && other.Class == AbiClass.Aggregate) || (other.SingleFieldStruct && Class == AbiClass.Aggregate));

    /// <summary>A managed bool without MarshalAs (a 4-byte Win32 BOOL).</summary>
    public bool IsWideBool => Display == "bool" && Size == 4;

    public override string ToString() => $"{Display} ({Class.ToString().ToLowerInvariant()}, {Size} B)";
}

public sealed record AbiParameter(string Name, AbiType Type);

/// <summary>A native function: the managed side's P/Invoke or the header's declaration.</summary>
public sealed record AbiFunction(string Library, string EntryPoint, AbiType Return, IReadOnlyList<AbiParameter> Parameters, string Origin, bool Variadic = false);

public sealed record AbiField(string Name, int Offset, AbiType Type);

/// <summary>A struct laid out in memory: the managed marshaled layout or the C layout the compiler reports.</summary>
public sealed record AbiStruct(string Name, int Size, IReadOnlyList<AbiField> Fields);

/// <summary>A named integer constant (an enum member).</summary>
public sealed record AbiConstant(string Name, long Value, string Origin);

/// <summary>What one side declares.</summary>
public sealed record AbiSurface(IReadOnlyList<AbiFunction> Functions, IReadOnlyList<AbiStruct> Structs, IReadOnlyList<AbiConstant> Constants);
