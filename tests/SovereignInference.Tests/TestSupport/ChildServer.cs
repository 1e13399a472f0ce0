using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// A `sovereign` executable run as its own process, as a user runs it: free loopback ports, stdout and stderr
/// captured into one log, readiness awaited, and the whole process tree killed on dispose.
/// </summary>
public sealed class ChildServer : IAsyncDisposable
{
    private readonly StringBuilder _log = new();

    private ChildServer(Process process, int httpPort)
    {
        Process = process;
        HttpBase = new Uri($"http://127.0.0.1:{httpPort}/");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    /// <summary>The HTTP listener, e.g. http://127.0.0.1:41234/.</summary>
    public Uri HttpBase { get; }

    /// <summary>Everything the process wrote so far, stdout and stderr interleaved.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>A port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>`dotnet sovereign.dll serve` (the build beside the tests) on free ports, with <paramref name="args"/> after them.</summary>
    public static ChildServer Serve(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sovereign.dll"));
        return Start(info, ["serve", .. args]);
    }

    /// <summary>Starts <paramref name="info"/> with "--http-url"/"--grpc-url" on free ports appended to <paramref name="args"/>.</summary>
    public static ChildServer Start(ProcessStartInfo info, IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(args);
        var port = FreePort();
        foreach (var arg in args.Concat(["--http-url", $"http://127.0.0.1:{port}", "--grpc-url", $"http://127.0.0.1:{FreePort()}"]))
        {
            info.ArgumentList.Add(arg);
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        return new ChildServer(Process.Start(info)!, port);
    }

    /// <summary>Waits for /health/ready (see <see cref="ChildProcessReadiness"/>) and fails with the log if it never comes.</summary>
    public async Task AssertReadyAsync()
    {
        var ready = await ChildProcessReadiness.WaitUntilReadyAsync(Process, HttpBase);
        Assert.True(ready, $"server never became ready (exited: {Process.HasExited}):\n{Log}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
    }

    private void Append(string? line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
