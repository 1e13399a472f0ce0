using System.CommandLine;
using SovereignInference.Engine.Models;
using SovereignInference.LlamaCpp;

namespace SovereignInference.Server.Cli;

/// <summary>
/// `sovereign worker --socket PATH` (hidden): the process the server starts for one loaded model. It connects to the
/// server's Unix domain socket, loads the model the server names, runs its scheduler, and exits when the server goes
/// away: end of file on the socket or on stdin (a pipe from the server, closed by the kernel when the server dies).
/// </summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var socket = new Option<string>("--socket") { Description = "The server's Unix domain socket.", Required = true };
        var command = new Command("worker", "Serve one model for a `sovereign serve` process (started by the server).") { socket };
        command.Hidden = true;
        command.SetAction(async (result, cancellationToken) =>
        {
            using var loggerFactory = LoggerFactory.Create(logging => logging
                .SetMinimumLevel(LogLevel.Information)
                .AddSimpleConsole(o => o.SingleLine = true)
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
            var parentGone = Task.Run(
                async () =>
                {
                    using var stdin = Console.OpenStandardInput();
                    var buffer = new byte[64];
                    while (await stdin.ReadAsync(buffer, CancellationToken.None) > 0)
                    {
                    }
                },
                CancellationToken.None);
            var code = await WorkerHost.RunAsync(
                result.GetValue(socket)!,
                nativeLibDir =>
                {
                    LlamaBackend.Configure(nativeLibDir, loggerFactory.CreateLogger("llama.cpp"));
                    return new LlamaBackend();
                },
                loggerFactory,
                parentGone);

            // The scheduler thread may sit in a native decode; leave without waiting for it.
            Environment.Exit(code);
            return code;
        });
        return command;
    }
}
