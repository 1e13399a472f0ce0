using System.Diagnostics;
using SovereignInference.Engine.Abstractions;
using SovereignInference.LlamaCpp;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// The test assembly's entry point. Under the test host it is never called; <c>dotnet exec SovereignInference.Tests.dll
/// --native-load-probe FILE</c> loads FILE straight into llama.cpp (no managed validation) and decodes one token, so a
/// test can observe, in a child process, what llama.cpp does with a file the validator refuses.
/// </summary>
public static class NativeLoadProbe
{
    public const string Flag = "--native-load-probe";

    public static int Main(string[] args)
    {
        if (args is not [Flag, var path])
        {
            Console.Error.WriteLine($"usage: dotnet exec SovereignInference.Tests.dll {Flag} FILE");
            return 2;
        }

        try
        {
            using var loaded = new LlamaBackend().Load(new ModelLoadSpec(path, 64, 1, 64, 0, null, "f16", 1));
            loaded.Runner.Decode([new BatchToken(1, 0, 0, WantLogits: true), new BatchToken(300, 1, 0, WantLogits: true)]);
            Console.WriteLine($"decoded, {loaded.Runner.GetLogits(1).Length} logits");
            return 0;
        }
#pragma warning disable CA1031 // a clean load failure is an outcome to report, not a crash
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Console.WriteLine($"load failed cleanly: {ex.GetType().Name}: {ex.Message}");
            return CleanFailure;
        }
    }

    /// <summary>Exit code of a probe whose load failed with a managed exception (llama.cpp returned an error).</summary>
    public const int CleanFailure = 3;

    /// <summary>Runs the probe on <paramref name="path"/> in a child process; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string path, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(typeof(NativeLoadProbe).Assembly.Location);
        info.ArgumentList.Add(Flag);
        info.ArgumentList.Add(path);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
