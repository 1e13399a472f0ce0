using System.Reflection;
using System.Runtime.InteropServices;

namespace SovereignInference.AbiCheck;

/// <summary>
/// The native surface an assembly binds, read by reflection: every P/Invoke (library, entry point, parameter and
/// return types as marshaled), every struct reachable from those signatures with its marshaled size and field
/// offsets, and the members of the enums it uses. Nothing native is loaded.
/// </summary>
public static class ManagedAbi
{
    /// <summary>Libraries that belong to llama.cpp; other imports (kernel32, vulkan) are platform probes.</summary>
    public static readonly IReadOnlySet<string> LlamaCppLibraries = new HashSet<string>(StringComparer.Ordinal) { "llama", "ggml", "ggml-base", "ggml-cpu", "mtmd" };

    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    public static AbiSurface Read(Assembly assembly)
    {
        var functions = new List<AbiFunction>();
        var structs = new Dictionary<Type, AbiStruct>();
        var enums = new HashSet<Type>();
        foreach (var type in LoadableTypes(assembly))
        {
            foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if ((method.Attributes & MethodAttributes.PinvokeImpl) == 0 || method.GetCustomAttribute<DllImportAttribute>() is not { } import)
                {
                    continue;
                }

                var library = Path.GetFileNameWithoutExtension(import.Value);
                if (library.StartsWith("lib", StringComparison.Ordinal))
                {
                    library = library[3..];
                }

                if (!LlamaCppLibraries.Contains(library))
                {
                    continue;
                }

                Visit(method.ReturnType, structs, enums);
                foreach (var parameter in method.GetParameters())
                {
                    Visit(parameter.ParameterType, structs, enums);
                }

                functions.Add(new AbiFunction(
                    library,
                    import.EntryPoint ?? method.Name,
                    Classify(method.ReturnType, method.ReturnParameter),
                    [.. method.GetParameters().Select(p => new AbiParameter(p.Name ?? "?", Classify(p.ParameterType, p)))],
                    $"{type.FullName}.{method.Name}"));
            }
        }

        var constants = enums
            .SelectMany(e => Enum.GetValues(e).Cast<object>().Select(v => new AbiConstant(Enum.GetName(e, v)!, Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture), e.FullName!)))
            .ToList();
        return new AbiSurface(
            [.. functions.DistinctBy(f => f.EntryPoint).OrderBy(f => f.EntryPoint, StringComparer.Ordinal)],
            [.. structs.Values.OrderBy(s => s.Name, StringComparer.Ordinal)],
            constants);
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }

    /// <summary>Collects the multi-field structs (by value, by reference, behind pointers or in arrays) and enums a signature reaches.</summary>
    private static void Visit(Type type, Dictionary<Type, AbiStruct> structs, HashSet<Type> enums)
    {
        while (type.HasElementType)
        {
            type = type.GetElementType()!;
        }

        if (type.IsEnum)
        {
            enums.Add(type);
            return;
        }

        if (!IsLaidOutStruct(type) || structs.ContainsKey(type) || IsWrapper(type) || IsFixedBuffer(type))
        {
            if (IsWrapper(type))
            {
                Visit(type.GetFields(Instance)[0].FieldType, structs, enums);
            }

            return;
        }

        structs[type] = new AbiStruct(type.FullName!, 0, []); // placeholder against cycles
        var fields = new List<AbiField>();
        foreach (var field in type.GetFields(Instance))
        {
            Visit(field.FieldType, structs, enums);
            fields.Add(new AbiField(field.Name, (int)Marshal.OffsetOf(type, field.Name), Classify(field.FieldType, field)));
        }

        structs[type] = new AbiStruct(type.FullName!, Marshal.SizeOf(type), [.. fields.OrderBy(f => f.Offset)]);
    }

    /// <summary>The compiler's type behind a C# fixed-size buffer (char key[128]): an array, sized with its field.</summary>
    private static bool IsFixedBuffer(Type type) => type.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false);

    private static bool IsLaidOutStruct(Type type) =>
        type.IsValueType && !type.IsPrimitive && !type.IsEnum && !type.IsGenericType && type != typeof(IntPtr) && type != typeof(UIntPtr)
        && type.GetFields(Instance).Length > 0;

    /// <summary>A struct of one field with that field's size (LLamaToken, LLamaPos): it travels as that field does.</summary>
    private static bool IsWrapper(Type type) =>
        IsLaidOutStruct(type) && type.GetFields(Instance) is [var only] && !only.FieldType.IsArray
        && Classify(only.FieldType, only) is { Class: not AbiClass.Aggregate } inner && inner.Size == Marshal.SizeOf(type);

    /// <summary>How the marshaller passes <paramref name="type"/> (with the MarshalAs of the parameter, return or field).</summary>
    public static AbiType Classify(Type type, ICustomAttributeProvider? marshalInfo)
    {
        var marshalAs = marshalInfo?.GetCustomAttributes(typeof(MarshalAsAttribute), false).OfType<MarshalAsAttribute>().FirstOrDefault();
        if (type == typeof(void))
        {
            return AbiType.Void;
        }

        if (type.IsByRef || type.IsPointer || type.IsArray || type.IsFunctionPointer || !type.IsValueType)
        {
            // ref/out/in, T*, arrays, strings, SafeHandles, delegates and classes all travel as an address.
            return AbiType.Pointer(type.IsByRef ? $"ref {type.GetElementType()!.Name}" : type.Name);
        }

        if (type == typeof(IntPtr) || type == typeof(UIntPtr))
        {
            return new AbiType(AbiClass.Integer, IntPtr.Size, type.Name);
        }

        if (type == typeof(bool))
        {
            // Without MarshalAs a bool is a 4-byte Win32 BOOL, in signatures and in structs alike.
            var size = marshalAs?.Value is UnmanagedType.U1 or UnmanagedType.I1 ? 1 : marshalAs?.Value == UnmanagedType.VariantBool ? 2 : 4;
            return new AbiType(AbiClass.Integer, size, "bool");
        }

        if (type.IsEnum)
        {
            return new AbiType(AbiClass.Integer, Marshal.SizeOf(Enum.GetUnderlyingType(type)), $"enum {type.Name}");
        }

        if (type == typeof(float) || type == typeof(double))
        {
            return new AbiType(AbiClass.Float, Marshal.SizeOf(type), type.Name);
        }

        if (type.IsPrimitive)
        {
            return new AbiType(AbiClass.Integer, type == typeof(char) ? 2 : Marshal.SizeOf(type), type.Name);
        }

        if (IsWrapper(type))
        {
            var inner = type.GetFields(Instance)[0];
            return Classify(inner.FieldType, inner) with { Display = type.Name, SingleFieldStruct = true };
        }

        return new AbiType(AbiClass.Aggregate, Marshal.SizeOf(type), $"struct {type.Name}");
    }
}
