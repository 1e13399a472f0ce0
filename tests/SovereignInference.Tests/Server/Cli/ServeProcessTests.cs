using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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

    [Fact]
    public async Task Native_lib_dir_loads_llama_cpp_from_that_directory()
    {
        var native = Directory.CreateDirectory(_dir.File("llama-build")).FullName;
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "avx2")))
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
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            var ready = false;
            for (var i = 0; i < 300 && !ready && !process.HasExited; i++)
            {
                try
                {
                    ready = (await http.GetAsync("health/ready")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                }

                if (!ready)
                {
                    await Task.Delay(100);
                }
            }

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
            var ready = false;
            for (var i = 0; i < 600 && !ready && !process.HasExited; i++)
            {
                try
                {
                    ready = (await http.GetAsync("health/ready")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                }

                if (!ready)
                {
                    await Task.Delay(100);
                }
            }

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
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("native-lib-dir", await stderr + await stdout, StringComparison.Ordinal);
    }
}
