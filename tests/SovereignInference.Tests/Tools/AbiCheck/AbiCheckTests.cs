using SovereignInference.AbiCheck;

namespace SovereignInference.Tests.Tools.AbiCheck;

/// <summary>
/// The ABI checker (scripts/native/check-abi.sh) without a llama.cpp tree or a compiler: its header reading on a
/// small fixture, and its comparison of LLamaSharp 0.30.0's real llama_model_params (read by reflection) with the
/// layouts the compiler reports for llama.cpp b9842's header as shipped and as patched.
/// </summary>
public sealed class AbiCheckTests
{
    private const string Fixture = """
        #ifndef FIXTURE_H
        #define FIXTURE_H \
            continued
        // struct commented_out { int x; };
        /* LLAMA_API int llama_commented(void); */
        typedef struct llama_token_data {
            llama_token id; // token id
            float logit;
            float p;
        } llama_token_data;

        enum llama_split_mode {
            LLAMA_SPLIT_MODE_NONE  = 0,
            LLAMA_SPLIT_MODE_LAYER = 1, // comment, with a comma
        };

        struct llama_model_kv_override {
            enum llama_model_kv_override_type tag;
            char key[128];
            union {
                int64_t val_i64;
                double  val_f64;
                bool    val_bool;
                char    val_str[128];
            };
        };

        struct llama_model_params {
            ggml_backend_dev_t * devices;
            int32_t n_gpu_layers, main_gpu;
            llama_progress_callback progress_callback;
            bool (*abort)(void * data);
            unsigned flags : 3;
        };

        DEPRECATED(LLAMA_API struct llama_model * llama_load_model_from_file(const char * path), "use llama_model_load_from_file");
        LLAMA_API int32_t llama_decode(struct llama_context * ctx, struct llama_batch batch);
        #endif
        """;

    [Fact]
    public void Header_reading_finds_structs_fields_constants_and_declarations_outside_comments()
    {
        var headers = CHeaders.Parse(Fixture);

        Assert.Equal(["id", "logit", "p"], headers.Structs["llama_token_data"]);
        Assert.Equal(["tag", "key", "val_i64", "val_f64", "val_bool", "val_str"], headers.Structs["llama_model_kv_override"]);
        Assert.Equal(["devices", "n_gpu_layers", "main_gpu", "progress_callback", "abort", "flags"], headers.Structs["llama_model_params"]);
        Assert.False(headers.Structs.ContainsKey("commented_out"));
        Assert.Equal(new HashSet<string> { "LLAMA_SPLIT_MODE_NONE", "LLAMA_SPLIT_MODE_LAYER" }, headers.EnumConstants);
        Assert.True(headers.Declares("llama_decode"));
        Assert.True(headers.Declares("llama_load_model_from_file"));
        Assert.False(headers.Declares("llama_commented"));
        Assert.False(headers.Declares("llama_model_load_from_file")); // only named inside a string
    }

    [Fact]
    public void The_probe_asks_the_compiler_for_every_field_and_reads_its_answer_back()
    {
        var fields = new Dictionary<string, IReadOnlyList<string>> { ["llama_token_data"] = ["id", "logit", "p"] };
        var program = NativeProbe.Program(["/src/include/llama.h"], ["llama_decode"], fields, ["LLAMA_SPLIT_MODE_LAYER"]);

        Assert.Contains("#include \"/src/include/llama.h\"", program, StringComparison.Ordinal);
        Assert.Contains("fn(\"llama_decode\", (decltype(&llama_decode)) nullptr);", program, StringComparison.Ordinal);
        Assert.Contains("sizeof(llama_token_data)", program, StringComparison.Ordinal);
        Assert.Contains("FIELD(llama_token_data, p)", program, StringComparison.Ordinal);

        var surface = NativeProbe.ParseOutput("F llama_decode 0 1:4 1:8 3:56\nS llama_token_data 12\nM llama_token_data id 0 1:4\nM llama_token_data p 8 2:4\nC LLAMA_SPLIT_MODE_LAYER 1\n");
        var decode = Assert.Single(surface.Functions);
        Assert.Equal(new AbiType(AbiClass.Integer, 4, "int32/pointer/enum"), decode.Return);
        Assert.Equal([AbiClass.Integer, AbiClass.Aggregate], decode.Parameters.Select(p => p.Type.Class));
        Assert.Equal(56, decode.Parameters[1].Type.Size);
        var tokenData = Assert.Single(surface.Structs);
        Assert.Equal((12, 8, AbiClass.Float), (tokenData.Size, tokenData.Fields[1].Offset, tokenData.Fields[1].Type.Class));
        Assert.Equal(1, Assert.Single(surface.Constants).Value);
    }

    [Fact]
    public void LLamaSharp_model_params_do_not_match_b9842_as_shipped_and_match_it_patched()
    {
        var managed = ManagedAbi.Read(typeof(LLama.Native.NativeApi).Assembly).Structs.Single(s => s.Name == "LLama.Native.LLamaModelParams");

        var shipped = AbiComparer.CompareStruct(managed, ModelParams(
            ("use_mmap", 65, 1), ("use_direct_io", 66, 1), ("use_mlock", 67, 1), ("check_tensors", 68, 1), ("use_extra_bufts", 69, 1), ("no_host", 70, 1), ("no_alloc", 71, 1)));
        var patched = AbiComparer.CompareStruct(managed, ModelParams(
            ("load_mode", 24, 4), ("check_tensors", 65, 1), ("use_extra_bufts", 66, 1), ("no_host", 67, 1), ("no_alloc", 68, 1), ("load_mtp", 69, 1)));

        Assert.Contains(shipped, f => f.IsMismatch && f.Message.Contains("main_gpu", StringComparison.Ordinal) && f.Message.Contains("load_mode", StringComparison.Ordinal));
        Assert.Contains(shipped, f => f.IsMismatch && f.Message.Contains("use_mmap", StringComparison.Ordinal));
        Assert.Empty(patched);
    }

    [Fact]
    public void Names_match_across_LLamaSharp_spellings_but_not_across_meanings()
    {
        Assert.True(AbiComparer.SameName("context_type", "ctx_type"));
        Assert.True(AbiComparer.SameName("llama_pooling_type", "pooling_type"));
        Assert.True(AbiComparer.SameName("defrag_threshold", "defrag_thold"));
        Assert.True(AbiComparer.SameName("_check_tensors", "check_tensors"));
        Assert.True(AbiComparer.SameName("IntValue", "val_i64"));
        Assert.False(AbiComparer.SameName("load_mode", "main_gpu"));
        Assert.False(AbiComparer.SameName("_check_tensors", "use_mmap"));
        Assert.False(AbiComparer.SameName("_no_host", "use_mlock"));
    }

    [Fact]
    public void Functions_differ_by_parameter_count_or_type_and_a_wide_bool_argument_is_only_a_note()
    {
        var int32 = new AbiType(AbiClass.Integer, 4, "int");
        var cBool = new AbiType(AbiClass.Integer, 1, "bool");
        var wideBool = new AbiType(AbiClass.Integer, 4, "bool");
        AbiFunction Fn(AbiType ret, params AbiType[] parameters) => new("llama", "f", ret, [.. parameters.Select((p, i) => new AbiParameter($"p{i}", p))], "test");

        Assert.Empty(AbiComparer.CompareFunction(Fn(int32, int32), Fn(int32, int32)));
        Assert.Contains(AbiComparer.CompareFunction(Fn(int32, int32), Fn(int32, int32, AbiType.Pointer("void *"))), f => f.IsMismatch && f.Message.Contains("2 parameters in C but 1 managed", StringComparison.Ordinal));
        Assert.Contains(AbiComparer.CompareFunction(Fn(int32, AbiType.Pointer("x")), Fn(int32, new AbiType(AbiClass.Float, 4, "float"))), f => f.IsMismatch);
        Assert.All(AbiComparer.CompareFunction(Fn(int32, wideBool), Fn(int32, cBool)), f => Assert.False(f.IsMismatch));
        Assert.Contains(AbiComparer.CompareFunction(Fn(wideBool), Fn(cBool)), f => f.IsMismatch && f.Message.StartsWith("returns", StringComparison.Ordinal));
        Assert.Contains(AbiComparer.CompareFunction(Fn(int32), null), f => f.IsMismatch && f.Message.Contains("not declared", StringComparison.Ordinal));
    }

    /// <summary>llama_model_params as the compiler lays it out for b9842 (the pointer and int fields before the bools are common to both).</summary>
    private static AbiStruct ModelParams(params (string Name, int Offset, int Size)[] differing)
    {
        var pointer = AbiType.Pointer("pointer");
        var int32 = new AbiType(AbiClass.Integer, 4, "int32");
        var patched = differing.Any(d => d.Name == "load_mode");
        var fields = new List<AbiField>
        {
            new("devices", 0, pointer), new("tensor_buft_overrides", 8, pointer), new("n_gpu_layers", 16, int32), new("split_mode", 20, int32),
            new("main_gpu", patched ? 28 : 24, int32), new("tensor_split", 32, pointer), new("progress_callback", 40, pointer),
            new("progress_callback_user_data", 48, pointer), new("kv_overrides", 56, pointer), new("vocab_only", 64, new AbiType(AbiClass.Integer, 1, "bool")),
        };
        fields.AddRange(differing.Select(d => new AbiField(d.Name, d.Offset, new AbiType(AbiClass.Integer, d.Size, d.Size == 1 ? "bool" : "enum"))));
        return new AbiStruct("llama_model_params", 72, [.. fields.OrderBy(f => f.Offset)]);
    }
}
