namespace SovereignInference.Gguf;

/// <summary>
/// Mirrors, in managed code, every check of llama.cpp's <c>llama_model::load_hparams</c> (b9297) that metadata of a
/// llama-family file can reach: the <c>GGML_ASSERT</c>s (which abort the whole process), the thrown errors (a clean
/// load failure, refused here anyway with a precise reason), and values the asserts miss but that make the first
/// decode abort or compute garbage (NaN/Inf/negative norm epsilons and RoPE parameters, a zero context length, a
/// KV-head count that does not divide the head count, differing K and V head sizes).
/// </summary>
internal static class HyperparameterValidator
{
    /// <summary>llama.cpp's <c>LLAMA_MAX_LAYERS</c>.</summary>
    public const int MaxLayers = 512;

    /// <summary>llama.cpp's <c>LLAMA_MAX_EXPERTS</c> (512 since Qwen3-Next).</summary>
    public const int MaxExperts = 512;

    /// <summary>llama.cpp's <c>LLAMA_FTYPE_GUESSED</c>: the largest <c>general.file_type</c> value of its enum.</summary>
    public const int MaxFileType = 1024;

    /// <summary>The RoPE scaling names llama.cpp knows; anything else hits <c>GGML_ASSERT(rope_scaling_type_train != UNSPECIFIED)</c>.</summary>
    public static IReadOnlyList<string> RopeScalingTypes { get; } = ["none", "linear", "yarn", "longrope"];

    public static ModelHyperparameters Validate(ModelMetadata m, string arch)
    {
        var p = arch + ".";
        CheckFileType(m);

        var contextLength = m.RequiredUInt32(p + "context_length");
        if (contextLength == 0)
        {
            throw m.Invalid(p + "context_length", "is 0; the model could not hold a single token (every prompt would be rejected)");
        }

        var embd = m.RequiredUInt32(p + "embedding_length");
        if (embd == 0)
        {
            throw m.Invalid(p + "embedding_length", "is 0 (must be positive)");
        }

        var layersRaw = m.RequiredUInt32(p + "block_count");
        if (layersRaw is 0 or > MaxLayers)
        {
            throw m.Invalid(p + "block_count", $"is {layersRaw}; llama.cpp asserts 0 < block_count <= {MaxLayers} (GGML_ASSERT n_layer_all)");
        }

        var layers = (int)layersRaw;
        if (m.OptionalUInt32(p + "nextn_predict_layers") is { } nextn && nextn > layers)
        {
            throw m.Invalid(p + "nextn_predict_layers", $"is {nextn}, more than block_count {layers}");
        }

        var (experts, expertsUsed) = ValidateExperts(m, p, layers);

        var heads = m.PerLayer(p + "attention.head_count", layers) ?? throw m.Invalid(p + "attention.head_count", "is required but missing");
        var kvHeads = m.PerLayer(p + "attention.head_count_kv", layers) ?? heads;
        for (var i = 0; i < layers; i++)
        {
            if (heads[i] == 0)
            {
                throw m.Invalid(p + "attention.head_count", $"is 0 for layer {i} (must be positive)");
            }

            if (kvHeads[i] == 0)
            {
                throw m.Invalid(p + "attention.head_count_kv", $"is 0 for layer {i} (must be positive; llama.cpp divides by it)");
            }

            if (heads[i] % kvHeads[i] != 0)
            {
                throw m.Invalid(p + "attention.head_count_kv", $"is {kvHeads[i]} for layer {i}, which does not divide head_count {heads[i]}");
            }
        }

        var ff = m.PerLayer(p + "feed_forward_length", layers) ?? throw m.Invalid(p + "feed_forward_length", "is required but missing");
        for (var i = 0; i < layers; i++)
        {
            if (ff[i] == 0)
            {
                throw m.Invalid(p + "feed_forward_length", $"is 0 for layer {i} (must be positive)");
            }
        }

        var keyLength = m.OptionalUInt32(p + "attention.key_length");
        var valueLength = m.OptionalUInt32(p + "attention.value_length");
        if (keyLength is null || valueLength is null)
        {
            if (embd % heads[0] != 0)
            {
                throw m.Invalid(p + "embedding_length", $"is {embd}, which is not divisible by attention.head_count {heads[0]} (and no attention.key_length/value_length is given)");
            }
        }

        long headK = keyLength ?? embd / heads[0];
        long headV = valueLength ?? embd / heads[0];
        if (headK == 0)
        {
            throw m.Invalid(p + "attention.key_length", "is 0 (must be positive)");
        }

        if (headV == 0)
        {
            throw m.Invalid(p + "attention.value_length", "is 0 (must be positive)");
        }

        if (headK != headV)
        {
            throw m.Invalid(p + "attention.value_length", $"is {headV} but the key length is {headK}; the llama graph asserts they are equal");
        }

        long rot = m.OptionalUInt32(p + "rope.dimension_count") ?? headK;
        // llama.cpp throws "invalid n_rot" for llama; the llama-family graphs (mistral3 included) assert n_rot == head size.
        if (rot != headK)
        {
            throw m.Invalid(p + "rope.dimension_count", $"is {rot} but the head dimension is {headK}; llama.cpp requires them equal (invalid n_rot)");
        }

        if (rot == 0 || rot > headK || rot % 2 != 0)
        {
            throw m.Invalid(p + "rope.dimension_count", $"is {rot}; it must be even and in 2..{headK} (the head dimension)");
        }

        ValidateRope(m, p);
        ValidateNorm(m, p);
        CheckAllFloatsFinite(m, p);

        return new ModelHyperparameters
        {
            Architecture = arch,
            ContextLength = contextLength,
            EmbeddingLength = embd,
            Layers = layers,
            HeadCount = heads,
            HeadCountKv = kvHeads,
            FeedForwardLength = ff,
            HeadDimensionK = headK,
            HeadDimensionV = headV,
            RopeDimensions = rot,
            ExpertCount = experts,
            ExpertUsedCount = expertsUsed,
        };
    }

    private static (long Experts, long[] Used) ValidateExperts(ModelMetadata m, string p, int layers)
    {
        long experts = m.OptionalUInt32(p + "expert_count") ?? 0;
        if (experts > MaxExperts)
        {
            throw m.Invalid(p + "expert_count", $"is {experts}, more than llama.cpp's LLAMA_MAX_EXPERTS ({MaxExperts})");
        }

        var used = m.PerLayer(p + "expert_used_count", layers) ?? new long[layers];
        long groups = m.OptionalUInt32(p + "expert_group_count") ?? 0;
        long groupsUsed = m.OptionalUInt32(p + "expert_group_used_count") ?? 0;
        foreach (var u in used)
        {
            if (u > experts)
            {
                throw m.Invalid(p + "expert_used_count", experts == 0
                    ? $"is {u} but the model has no experts ('{p}expert_count' is absent or 0)"
                    : $"is {u}, more than expert_count {experts}");
            }

            if (experts > 0 && u == 0)
            {
                throw m.Invalid(p + "expert_used_count", $"is 0 (or absent) but expert_count is {experts}; a mixture-of-experts model must use at least one expert");
            }
        }

        if (experts == 0)
        {
            if (groups != 0)
            {
                throw m.Invalid(p + "expert_group_count", $"is {groups} but the model has no experts");
            }
        }
        else
        {
            if (groups >= experts)
            {
                throw m.Invalid(p + "expert_group_count", $"is {groups}, not less than expert_count {experts}");
            }

            if (groups > 1 && (experts % groups != 0 || groupsUsed == 0 || groupsUsed >= groups))
            {
                throw m.Invalid(p + "expert_group_used_count",
                    $"is {groupsUsed} with expert_group_count {groups} and expert_count {experts}; groups must divide the experts and 0 < used groups < groups");
            }
        }

        return (experts, used);
    }

    private static void ValidateRope(ModelMetadata m, string p)
    {
        if (m.OptionalFloat32(p + "rope.freq_base") is { } freqBase && !(float.IsFinite(freqBase) && freqBase > 0))
        {
            throw m.Invalid(p + "rope.freq_base", $"is {ModelMetadata.Show(freqBase)} (must be finite and positive)");
        }

        if (m.OptionalString(p + "rope.scaling.type") is { } scaling && !RopeScalingTypes.Contains(scaling))
        {
            throw m.Invalid(p + "rope.scaling.type", $"is '{scaling}', not one of {string.Join(", ", RopeScalingTypes)} (llama.cpp asserts on unknown types)");
        }

        foreach (var key in new[] { p + "rope.scaling.factor", p + "rope.scale_linear" })
        {
            if (m.OptionalFloat32(key) is { } factor && !(float.IsFinite(factor) && factor >= 0))
            {
                throw m.Invalid(key, $"is {ModelMetadata.Show(factor)} (must be finite and >= 0; 0 means no scaling)");
            }
        }

        if (m.OptionalFloat32(p + "rope.scaling.attn_factor") is { } attn && !(float.IsFinite(attn) && attn > 0))
        {
            throw m.Invalid(p + "rope.scaling.attn_factor", $"is {ModelMetadata.Show(attn)} (must be finite and positive)");
        }

        if (m.OptionalUInt32(p + "rope.scaling.original_context_length") == 0)
        {
            throw m.Invalid(p + "rope.scaling.original_context_length", "is 0 (must be positive)");
        }

        m.OptionalBool(p + "rope.scaling.finetuned");
    }

    private static void ValidateNorm(ModelMetadata m, string p)
    {
        var key = p + "attention.layer_norm_rms_epsilon";
        var eps = m.RequiredFloat32(key);
        if (!float.IsFinite(eps) || eps < 0)
        {
            throw m.Invalid(key, $"is {ModelMetadata.Show(eps)}; ggml_rms_norm asserts eps >= 0 on the first decode (must be finite and >= 0)");
        }
    }

    /// <summary>Any floating-point hyper-parameter of the architecture, known to us or not, must be a finite number.</summary>
    private static void CheckAllFloatsFinite(ModelMetadata m, string prefix)
    {
        foreach (var (key, value) in m.File.MetadataInOrder)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var bad = value.RawValue switch
            {
                float f => !float.IsFinite(f) ? ModelMetadata.Show(f) : null,
                double d => !double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : null,
                float[] fs => fs.Any(f => !float.IsFinite(f)) ? "an array with a non-finite element" : null,
                _ => null,
            };
            if (bad is not null)
            {
                throw m.Invalid(key, $"is {bad} (hyper-parameters must be finite numbers)");
            }
        }
    }

    private static void CheckFileType(ModelMetadata m)
    {
        const string key = "general.file_type";
        // The reader already requires an integer; llama.cpp converts it to its enum, so it must lie in the enum's range.
        if (m.File.Get(key) is { } value && !(value.TryGetInt64(out var ft) && ft is >= 0 and <= MaxFileType))
        {
            throw m.Invalid(key, $"is {value}, outside llama.cpp's llama_ftype range (0..{MaxFileType})");
        }
    }
}
