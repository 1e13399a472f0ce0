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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sovereign.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

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

        var models = Directory.CreateDirectory(_dir.File("models")).FullName;
        File.Copy(ScriptedModels.Engine.Path, Path.Combine(models, "scripted.gguf"));
        var port = FreePort();
        using var process = Start("serve", "--models-dir", models, "--http-url", $"http://127.0.0.1:{port}", "--grpc-url", $"http://127.0.0.1:{FreePort()}", "--native-lib-dir", native, "--ctx-size", "64", "--parallel", "1");
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = await ChildProcessReadiness.WaitUntilReadyAsync(process, new Uri($"http://127.0.0.1:{port}/"));

            string text;
            lock (log)
            {
                text = log.ToString();
            }

            Assert.True(ready, "server never became ready:\n" + text);
            Assert.Contains($"library: {Path.Combine(native, "libllama.so")}", text, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>
    /// --gpu-layers on the CPU build (the packaged LLamaSharp.Backend.Cpu): nothing to offload to, so the model
    /// is planned against RAM and served on the CPU instead of failing the start.
    /// </summary>
    [Fact]
    public async Task Gpu_layers_on_a_cpu_build_serves_on_the_cpu()
    {
        Assert.Contains("GPU offload not supported", new LlamaBackend().Description, StringComparison.Ordinal);
        var models = Directory.CreateDirectory(_dir.File("models")).FullName;
        File.Copy(ScriptedModels.Engine.Path, Path.Combine(models, "scripted.gguf"));
        var port = FreePort();
        using var process = Start("serve", "--models-dir", models, "--http-url", $"http://127.0.0.1:{port}", "--grpc-url", $"http://127.0.0.1:{FreePort()}", "--gpu-layers", "-1", "--ctx-size", "64", "--parallel", "1", "--threads", "2");
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = await ChildProcessReadiness.WaitUntilReadyAsync(process, new Uri($"http://127.0.0.1:{port}/"));
            string Log()
            {
                lock (log)
                {
                    return log.ToString();
                }
            }

            Assert.True(ready, "server never became ready:\n" + Log());
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            var prompt = System.Text.Json.JsonSerializer.Serialize(ScriptedModels.Prompt("[/INST]"));
            using var response = await http.PostAsync("v1/completions", new StringContent(
                $$"""{"model":"scripted","prompt":{{prompt}},"max_tokens":8,"temperature":0}""", System.Text.Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            using var json = System.Text.Json.JsonDocument.Parse(body);
            Assert.Equal(" Hello world!", json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
            Assert.Contains("GPU offload not supported", Log(), StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Serve_skips_every_semantic_corpus_file_with_its_reason_and_keeps_serving_the_good_model()
    {
        var models = Directory.CreateDirectory(_dir.File("models")).FullName;
        foreach (var name in SemanticGgufCorpus.Names)
        {
            await File.WriteAllBytesAsync(Path.Combine(models, name + ".gguf"), SemanticGgufCorpus.Build(name));
        }

        File.Copy(ScriptedModels.Engine.Path, Path.Combine(models, "scripted.gguf"));
        var port = FreePort();
        using var process = Start("serve", "--models-dir", models, "--http-url", $"http://127.0.0.1:{port}", "--grpc-url", $"http://127.0.0.1:{FreePort()}", "--ctx-size", "64", "--parallel", "1");
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            var ready = await ChildProcessReadiness.WaitUntilReadyAsync(process, http.BaseAddress);

            string Log()
            {
                lock (log)
                {
                    return log.ToString();
                }
            }

            Assert.True(ready, "server never became ready:\n" + Log());
            using var completion = await http.PostAsync("v1/completions", new StringContent(
                """{"model":"scripted","prompt":"Hello","max_tokens":2}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, completion.StatusCode);

            var listed = await http.GetStringAsync("v1/models");
            Assert.Contains("scripted", listed, StringComparison.Ordinal);
            Assert.False(process.HasExited, "the server process died:\n" + Log());
            var text = Log();
            foreach (var name in SemanticGgufCorpus.Names)
            {
                Assert.Contains($"{name}.gguf' ({SemanticGgufCorpus.Get(name).Expected})", text, StringComparison.Ordinal);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Missing_native_lib_dir_fails_start_with_a_clear_message()
    {
        using var process = Start("serve", "--models-dir", _dir.Path, "--http-url", $"http://127.0.0.1:{FreePort()}", "--grpc-url", $"http://127.0.0.1:{FreePort()}", "--native-lib-dir", _dir.File("nope"));
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ChildProcessReadiness.HangGuard);
        await process.WaitForExitAsync(timeout.Token);

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("native-lib-dir", await stderr + await stdout, StringComparison.Ordinal);
    }
}
