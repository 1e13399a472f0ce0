namespace SovereignInference.AbiCheck;

/// <summary>One difference between what the managed side binds and what the native headers declare.</summary>
public sealed record AbiFinding(string Subject, string Message, bool IsMismatch)
{
    public override string ToString() => $"{(IsMismatch ? "MISMATCH" : "note")} {Subject}: {Message}";
}

/// <summary>
/// Compares the managed surface with the native one. Functions: present, same number of parameters, every
/// parameter and the return in the same ABI class and size. Structs: same size, and at every offset where either
/// side has a field the other has one of the same ABI class and size and (loosely) the same name — a field whose
/// bytes line up but whose meaning moved (the same slot called main_gpu on one side and load_mode on the other) is
/// a mismatch. Enum constants with the header's names: same value.
/// </summary>
public static class AbiComparer
{
    /// <summary>Managed struct → C struct where the names are not the same words.</summary>
    public static readonly IReadOnlyDictionary<string, string> StructAliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["LLamaModelMetadataOverride"] = "llama_model_kv_override",
        ["LLamaModelTensorBufferOverride"] = "llama_model_tensor_buft_override",
        ["LLamaPerfContextTimings"] = "llama_perf_context_data",
        ["LLamaSamplerTimings"] = "llama_perf_sampler_data",
    };

    /// <summary>Managed field → C field where LLamaSharp chose other words (checked by offset, size and class all the same).</summary>
    public static readonly IReadOnlyDictionary<string, string> FieldAliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["IntValue"] = "val_i64",
        ["FloatValue"] = "val_f64",
        ["BoolValue"] = "val_bool",
        ["StringValue"] = "val_str",
        ["Probability"] = "p",
        ["tensor_types"] = "tt_overrides",
    };

    /// <summary>The C struct a managed struct stands for, among <paramref name="cStructs"/>; null when none.</summary>
    public static string? CStructFor(string managedFullName, IEnumerable<string> cStructs)
    {
        var simple = managedFullName[(Math.Max(managedFullName.LastIndexOf('.'), managedFullName.LastIndexOf('+')) + 1)..];
        if (StructAliases.TryGetValue(simple, out var alias))
        {
            return cStructs.Contains(alias, StringComparer.Ordinal) ? alias : null;
        }

        var wanted = Normalize(simple).Replace("native", "", StringComparison.Ordinal);
        return cStructs.FirstOrDefault(c => Normalize(c) == wanted);
    }

    public static List<AbiFinding> CompareFunction(AbiFunction managed, AbiFunction? native)
    {
        var subject = $"function {managed.EntryPoint}";
        if (native is null)
        {
            return [new(subject, $"not declared in the headers (bound by {managed.Origin}; calling it throws EntryPointNotFoundException)", true)];
        }

        var findings = new List<AbiFinding>();
        if (native.Variadic)
        {
            findings.Add(new(subject, "variadic in C; a fixed P/Invoke signature only works for the fixed part", true));
        }

        if (!managed.Return.IsCompatibleWith(native.Return))
        {
            findings.Add(new(subject, $"returns {native.Return} in C but {managed.Return} managed", true));
        }

        if (managed.Parameters.Count != native.Parameters.Count)
        {
            findings.Add(new(subject, $"{native.Parameters.Count} parameters in C but {managed.Parameters.Count} managed", true));
            return findings;
        }

        for (var i = 0; i < managed.Parameters.Count; i++)
        {
            var (m, n) = (managed.Parameters[i], native.Parameters[i]);
            if (m.Type.IsWideBool && n.Type is { Class: AbiClass.Integer, Size: 1 })
            {
                findings.Add(new(subject, $"parameter {i + 1} ({m.Name}) is a 4-byte BOOL managed and a C bool: C reads the low byte, which holds 0 or 1 on little-endian x64/arm64", false));
            }
            else if (!m.Type.IsCompatibleWith(n.Type))
            {
                findings.Add(new(subject, $"parameter {i + 1} ({m.Name}) is {n.Type} in C but {m.Type} managed", true));
            }
        }

        return findings;
    }

    public static List<AbiFinding> CompareStruct(AbiStruct managed, AbiStruct native)
    {
        var subject = $"struct {native.Name} ({managed.Name})";
        var findings = new List<AbiFinding>();
        if (managed.Size != native.Size)
        {
            findings.Add(new(subject, $"size {native.Size} in C but {managed.Size} managed", true));
        }

        foreach (var c in native.Fields)
        {
            var atOffset = managed.Fields.Where(m => m.Offset == c.Offset).ToList();
            var named = atOffset.FirstOrDefault(m => SameName(m.Name, c.Name));
            if (named is not null)
            {
                if (!named.Type.IsCompatibleWith(c.Type))
                {
                    findings.Add(new(subject, $"field {c.Name} at {c.Offset} is {c.Type} in C but {named.Name} is {named.Type} managed", true));
                }
                else if (!string.Equals(NormalizeField(named.Name), NormalizeField(c.Name), StringComparison.Ordinal) && !FieldAliases.ContainsKey(named.Name))
                {
                    findings.Add(new(subject, $"field {c.Name} at {c.Offset} is called {named.Name} managed (same offset, size and class)", false));
                }

                continue;
            }

            var other = atOffset.Count > 0 ? $"managed has {string.Join(", ", atOffset.Select(m => $"{m.Name} ({m.Type})"))} there" : "managed has no field there";
            var elsewhere = managed.Fields.FirstOrDefault(m => SameName(m.Name, c.Name));
            findings.Add(new(subject, $"field {c.Name} ({c.Type}) is at offset {c.Offset} in C; {other}" + (elsewhere is null ? "" : $"; managed {elsewhere.Name} is at {elsewhere.Offset}"), true));
        }

        foreach (var m in managed.Fields)
        {
            if (!native.Fields.Any(c => c.Offset == m.Offset) && !m.Name.Contains("padding", StringComparison.OrdinalIgnoreCase))
            {
                var elsewhere = native.Fields.FirstOrDefault(c => SameName(m.Name, c.Name));
                findings.Add(new(subject, $"managed field {m.Name} ({m.Type}) at offset {m.Offset} has no C field at that offset" + (elsewhere is null ? " (C has no such field)" : $"; C {elsewhere.Name} is at {elsewhere.Offset}"), true));
            }
        }

        return findings;
    }

    public static List<AbiFinding> CompareConstants(IEnumerable<AbiConstant> managed, IReadOnlyDictionary<string, long> native)
    {
        var findings = new List<AbiFinding>();
        foreach (var m in managed)
        {
            if (native.TryGetValue(m.Name, out var value) && value != m.Value)
            {
                findings.Add(new($"constant {m.Name}", $"{value} in C but {m.Value} managed ({m.Origin})", true));
            }
        }

        return findings;
    }

    /// <summary>
    /// Field names as LLamaSharp and llama.cpp spell them: case, leading underscores and a "llama_" prefix ignored;
    /// an abbreviation counts (ctx for context, defrag_thold for defrag_threshold, buft for BufferType: the shorter,
    /// at least 3 letters, is a subsequence of the longer with the same first letter); explicit aliases otherwise.
    /// </summary>
    public static bool SameName(string managedName, string cName)
    {
        if (FieldAliases.TryGetValue(managedName, out var alias))
        {
            return alias == cName;
        }

        var (a, b) = (NormalizeField(managedName), NormalizeField(cName));
        if (a == b)
        {
            return true;
        }

        var (shorter, longer) = a.Length <= b.Length ? (a, b) : (b, a);
        if (shorter.Length < 3 || shorter[0] != longer[0])
        {
            return false;
        }

        var j = 0;
        foreach (var ch in longer)
        {
            if (j < shorter.Length && shorter[j] == ch)
            {
                j++;
            }
        }

        return j == shorter.Length;
    }

    /// <summary>Lower case without underscores: llama_model_params and LLamaModelParams read the same.</summary>
    private static string Normalize(string name) => name.TrimStart('_').Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>A field name normalized, without LLamaSharp's occasional "llama_" prefix (llama_pooling_type for pooling_type).</summary>
    private static string NormalizeField(string name)
    {
        var n = Normalize(name);
        return n.StartsWith("llama", StringComparison.Ordinal) && n.Length > 5 ? n[5..] : n;
    }
}
