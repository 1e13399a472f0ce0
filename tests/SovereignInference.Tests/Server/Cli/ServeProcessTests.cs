using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SovereignInference.LlamaCpp;
using SovereignInference.Tests.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Cli;

/// <summary>`sovereign serve` as its own process (the built executable beside the tests), as a user runs it.</summary>
public sealed class ServeProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// The directory of the libllama this test process runs on: LLamaSharp picked it for this machine
    /// (runtimes/linux-x64/native/avx2, avx512 or noavx, linux-arm64, ...), so a copy of it loads here too.
    /// </summary>
    private static string PackagedNativeDir()
    {
        var description = new LlamaBackend().Description;
        const string Marker = "; library: ";
        var start = description.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length;
        var end = description.IndexOf("; system: ", start, StringComparison.Ordinal);
        var library = description[start..end];
        Assert.True(File.Exists(library), $"no loaded libllama in: {description}");
        return Path.GetDirectoryName(library)!;
    }

    [Fact]
    public async Task Native_lib_dir_loads_llama_cpp_from_that_directory()
    {
        var native = Directory.CreateDirectory(_dir.File("llama-build")).FullName;
        foreach (var file in Directory.GetFiles(PackagedNativeDir()))
        {
            File.Copy(file, Path.Combine(native, Path.GetFileName(file)));
        }

        await using var server = ChildServer.Serve("--models-dir", ScriptedModelsDir(), "--native-lib-dir", native, "--ctx-size", "64", "--parallel", "1");
        await server.AssertReadyAsync();

        Assert.Contains($"library: {Path.Combine(native, "libllama.so")}", server.Log, StringComparison.Ordinal);
    }

    /// <summary>
    /// --gpu-layers on the CPU build (the packaged LLamaSharp.Backend.Cpu): nothing to offload to, so the model
    /// is planned against RAM and served on the CPU instead of failing the start.
    /// </summary>
    [Fact]
    public async Task Gpu_layers_on_a_cpu_build_serves_on_the_cpu()
    {
        Assert.Contains("GPU offload not supported", new LlamaBackend().Description, StringComparison.Ordinal);
        await using var server = ChildServer.Serve("--models-dir", ScriptedModelsDir(), "--gpu-layers", "-1", "--ctx-size", "64", "--parallel", "1", "--threads", "2");
        await server.AssertReadyAsync();

        using var http = new HttpClient { BaseAddress = server.HttpBase };
        var prompt = System.Text.Json.JsonSerializer.Serialize(ScriptedModels.Prompt("[/INST]"));
        using var response = await http.PostAsync("v1/completions", new StringContent(
            $$"""{"model":"scripted","prompt":{{prompt}},"max_tokens":8,"temperature":0}""", System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal(" Hello world!", json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Contains("GPU offload not supported", server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_skips_every_semantic_corpus_file_with_its_reason_and_keeps_serving_the_good_model()
    {
        var models = ScriptedModelsDir();
        foreach (var name in SemanticGgufCorpus.Names)
        {
            await File.WriteAllBytesAsync(Path.Combine(models, name + ".gguf"), SemanticGgufCorpus.Build(name));
        }

        await using var server = ChildServer.Serve("--models-dir", models, "--ctx-size", "64", "--parallel", "1");
        await server.AssertReadyAsync();

        using var http = new HttpClient { BaseAddress = server.HttpBase };
        using var completion = await http.PostAsync("v1/completions", new StringContent(
            """{"model":"scripted","prompt":"Hello","max_tokens":2}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        Assert.Contains("scripted", await http.GetStringAsync("v1/models"), StringComparison.Ordinal);
        Assert.False(server.Process.HasExited, "the server process died:\n" + server.Log);
        var text = server.Log;
        foreach (var name in SemanticGgufCorpus.Names)
        {
            Assert.Contains($"{name}.gguf' ({SemanticGgufCorpus.Get(name).Expected})", text, StringComparison.Ordinal);
        }
    }

    /// <summary>A models folder holding only the scripted test model (served as "scripted").</summary>
    private string ScriptedModelsDir()
    {
        var models = Directory.CreateDirectory(_dir.File("models")).FullName;
        File.Copy(ScriptedModels.Engine.Path, Path.Combine(models, "scripted.gguf"));
        return models;
    }

    [Fact]
    public async Task Missing_native_lib_dir_fails_start_with_a_clear_message()
    {
        await using var server = ChildServer.Serve("--models-dir", _dir.Path, "--native-lib-dir", _dir.File("nope"));
        using var timeout = new CancellationTokenSource(ChildProcessReadiness.HangGuard);
        await server.Process.WaitForExitAsync(timeout.Token);
        await Task.Delay(200); // the last lines of output arrive on the reader threads

        Assert.NotEqual(0, server.Process.ExitCode);
        Assert.Contains("native-lib-dir", server.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--memory-budget", "vram=1G", "memory-budget device must be ram, gpu (every GPU) or gpuN")]
    [InlineData("--parallel", "0", "parallel must be 1..256")]
    public async Task A_bad_setting_stops_the_start_with_its_message_alone_and_exit_code_2(string option, string value, string expected)
    {
        await using var server = ChildServer.Serve("--models-dir", _dir.Path, option, value);
        using var timeout = new CancellationTokenSource(ChildProcessReadiness.HangGuard);
        await server.Process.WaitForExitAsync(timeout.Token);
        await Task.Delay(200); // the last lines of output arrive on the reader threads

        Assert.Equal(2, server.Process.ExitCode);
        Assert.Contains("sovereign: Invalid configuration: " + expected, server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_memory_budget_naming_a_gpu_this_machine_lacks_stops_the_start_with_exit_code_2_and_no_stack_trace()
    {
        // The syntax is valid, so only the engine's start (which learns the devices llama.cpp sees) can refuse it.
        await using var server = ChildServer.Serve("--models-dir", _dir.Path, "--memory-budget", "gpu7=1G");
        using var timeout = new CancellationTokenSource(ChildProcessReadiness.HangGuard);
        await server.Process.WaitForExitAsync(timeout.Token);
        await Task.Delay(200); // the last lines of output arrive on the reader threads

        Assert.Equal(2, server.Process.ExitCode);
        Assert.Contains("sovereign: memory-budget names gpu7", server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Log, StringComparison.Ordinal);
    }
}
