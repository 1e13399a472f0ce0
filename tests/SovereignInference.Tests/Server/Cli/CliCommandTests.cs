using SovereignInference.Engine.Hosting;
using SovereignInference.Gguf;
using SovereignInference.Server.Cli;
using SovereignInference.Server.Hosting;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Cli;

/// <summary>The `sovereign` subcommands, invoked through System.CommandLine as the executable does.</summary>
public sealed class CliCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int ExitCode, string Out, string Error) Invoke(params string[] args) =>
        CommandLineRunner.InvokeAsync([MakeModelCommand.Create(), ModelsCommand.Create(), MakeTekkenCommand.Create()], args).GetAwaiter().GetResult();

    [Fact]
    public void Make_tekken_writes_a_vocabulary_that_make_model_turns_into_a_valid_tekken_gguf()
    {
        var vocabulary = _dir.File("tekken.json");
        Assert.Equal(0, Invoke("make-tekken", "--out", vocabulary, "--version", "v13").ExitCode);
        var path = _dir.File("tekken.gguf");

        Assert.Equal(0, Invoke("make-model", "--out", path, "--tokenizer", vocabulary, "--chat-template", "mistral-v13").ExitCode);

        var file = GgufReader.ReadModel(path);
        Assert.Equal("tekken", file.GetString("tokenizer.ggml.pre"));
        Assert.Equal("gpt2", file.GetString("tokenizer.ggml.model"));
        var inspected = Invoke("models", "inspect", path);
        Assert.Equal(0, inspected.ExitCode);
        Assert.Contains("mistral-v13", SovereignInference.Engine.Chat.ChatTemplates.NameOf(SovereignInference.Engine.Chat.ChatTemplateDetector.Detect(GgufModelInfo.Read(path).ChatTemplate, GgufModelInfo.Read(path).VocabType)!.Value), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bench", "--url", "http://127.0.0.1:1", "--model", "m")]
    [InlineData("bench-engine", "--rounds", "1")]
    public async Task Old_bench_commands_point_to_sovereign_bench_and_fail_without_running(string name, params string[] args)
    {
        var (exit, output, error) = await CommandLineRunner.InvokeAsync(MovedBenchCommands.Create(), [name, .. args]);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains($"sovereign-bench {name}", error, StringComparison.Ordinal);
        Assert.Contains("tools/SovereignInference.Bench", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mistral-v11", "[ARGS]")]
    [InlineData("mistral-v15", "[MODEL_SETTINGS]")]
    [InlineData("chatml", "<|im_start|>")]
    public void Make_model_embeds_a_named_chat_template_with_its_control_tokens(string name, string marker)
    {
        var path = _dir.File("t.gguf");

        var made = Invoke("make-model", "--out", path, "--preset", "tiny", "--chat-template", name);

        Assert.Equal(0, made.ExitCode);
        var info = GgufModelInfo.Read(path);
        Assert.Contains(marker, info.ChatTemplate, StringComparison.Ordinal);
        if (name != "chatml")
        {
            Assert.Equal(name, SovereignInference.Engine.Chat.ChatTemplates.NameOf(SovereignInference.Engine.Chat.ChatTemplateDetector.Detect(info.ChatTemplate, info.VocabType)!.Value).Replace("-tekken", "", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Make_model_takes_a_real_sentencepiece_tokenizer_and_the_tools_preset_writes_a_scripted_tool_model()
    {
        var path = _dir.File("real.gguf");
        var tokenizer = Path.Combine(AppContext.BaseDirectory, "Engine", "Chat", "Reference", "mistral_instruct_tokenizer_240323.model.v3");

        Assert.Equal(0, Invoke("make-model", "--out", path, "--tokenizer", tokenizer, "--chat-template", "mistral-v3").ExitCode);
        Assert.Equal(32768, GgufModelInfo.Read(path).VocabSize);

        var tools = _dir.File("tools.gguf");
        Assert.Equal(0, Invoke("make-model", "--out", tools, "--preset", "tools").ExitCode);
    }

    [Fact]
    public void Make_model_writes_a_valid_gguf_and_inspect_prints_what_it_is()
    {
        var path = _dir.File("m.gguf");
        var made = Invoke("make-model", "--out", path, "--preset", "tiny", "--type", "q8_0", "--layers", "3");
        Assert.Equal(0, made.ExitCode);

        var info = GgufModelInfo.Read(path);
        Assert.Equal(3, info.BlockCount);
        Assert.Equal("Q8_0", info.Quantization);

        var inspected = Invoke("models", "inspect", path);
        Assert.Equal(0, inspected.ExitCode);
        foreach (var expected in new[] { "llama", "Q8_0", "4096", GgufModelInfo.ComputeSha256(path) })
        {
            Assert.Contains(expected, inspected.Out, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("--preset must be one of tiny, bench100m, demo, tools (got 'huge')", "make-model", "--preset", "huge", "--layers", "2")]
    [InlineData("--type must be f32, f16 or q8_0 (got 'q4_k')", "make-model", "--type", "q4_k")]
    [InlineData("Invalid model shape", "make-model", "--heads", "7")]
    [InlineData("--chat-template must be one of", "make-model", "--chat-template", "mistral-v99")]
    [InlineData("junk.bin: not a SentencePiece model (truncated SentencePiece model)", "make-model", "--tokenizer", "{not-a-model}")]
    [InlineData("unknown tekken version 'v99'", "make-tekken", "--version", "v99")]
    public void A_bad_make_setting_exits_2_with_its_message_alone_and_writes_nothing(string expected, string command, params string[] args)
    {
        var junk = _dir.File("junk.bin");
        File.WriteAllBytes(junk, [1, 2, 3, 4]);
        var output = _dir.File(command == "make-tekken" ? "out.json" : "out.gguf");

        var result = Invoke([command, "--out", output, .. args.Select(a => a == "{not-a-model}" ? junk : a)]);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("sovereign: ", result.Error, StringComparison.Ordinal);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Only_refused_settings_are_setting_errors_a_plain_argument_exception_is_a_defect()
    {
        Assert.True(SettingErrors.IsSettingError(new ConfigurationException("bad")));
        Assert.True(SettingErrors.IsSettingError(new SovereignInference.Engine.Errors.SettingException("bad")));
        Assert.True(SettingErrors.IsSettingError(Assert.ThrowsAny<ArgumentException>(() => SovereignInference.Engine.Models.MemoryBudget.Parse("vram=1G"))));
        Assert.True(SettingErrors.IsSettingError(Assert.ThrowsAny<ArgumentException>(() => SovereignInference.Engine.Models.KeepAlive.Parse("soon", "keep-alive"))));
        Assert.True(SettingErrors.IsSettingError(Assert.ThrowsAny<ArgumentException>(() => new EngineOptions { Parallel = 0 }.ThrowIfInvalid())));
        Assert.False(SettingErrors.IsSettingError(new ArgumentException("a defect")));
        Assert.False(SettingErrors.IsSettingError(new ArgumentOutOfRangeException("index")));
        Assert.False(SettingErrors.IsSettingError(new InvalidOperationException("a defect")));
    }

    [Fact]
    public void Inspect_of_a_malformed_file_exits_2_naming_the_file_and_reason()
    {
        var path = _dir.File("bad.gguf");
        File.WriteAllBytes(path, "GGUF\u0001\0\0\0"u8.ToArray());

        var result = Invoke("models", "inspect", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("bad.gguf", result.Error, StringComparison.Ordinal);
        Assert.Contains("UnsupportedVersion", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_model_is_generated_only_when_the_models_dir_is_empty()
    {
        var options = new EngineOptions { ModelsDir = _dir.File("models") };
        ServerHost.EnsureDemoModel(options);
        var demo = Path.Combine(options.ModelsDir, ServerHost.DemoModelFileName);
        Assert.True(File.Exists(demo));
        Assert.Equal("sovereign-demo", GgufModelInfo.Read(demo).Name);

        File.Delete(demo);
        File.Copy(TestModels.Tiny().Path, Path.Combine(options.ModelsDir, "mine.gguf"));
        ServerHost.EnsureDemoModel(options);
        Assert.False(File.Exists(demo));
    }
}
