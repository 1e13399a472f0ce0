using System.CommandLine;
using SovereignInference.Server.Cli;

namespace SovereignInference.Tests.TestSupport;

/// <summary>Invokes `sovereign` subcommands in-process through System.CommandLine, capturing what they print.</summary>
public static class CommandLineRunner
{
    private static readonly SemaphoreSlim ConsoleLock = new(1, 1);

    public static async Task<(int ExitCode, string Out, string Error)> InvokeAsync(IEnumerable<Command> commands, params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in commands)
        {
            root.Subcommands.Add(command);
        }

        await ConsoleLock.WaitAsync();
        var originalOut = Console.Out;
        var originalError = Console.Error;
        var output = new StringWriter();
        var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var exit = await SettingErrors.InvokeAsync(root.Parse(args));
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
            ConsoleLock.Release();
        }
    }
}
