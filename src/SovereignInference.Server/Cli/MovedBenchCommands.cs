using System.CommandLine;

namespace SovereignInference.Server.Cli;

/// <summary>
/// `sovereign bench` and `sovereign bench-engine` moved to their own executable, `sovereign-bench`
/// (tools/SovereignInference.Bench), so the server ships without the load-test client's libraries. These hidden
/// commands only tell a user typing the old name where it went (exit code 2, as for bad arguments).
/// </summary>
internal static class MovedBenchCommands
{
    public static IEnumerable<Command> Create()
    {
        foreach (var name in new[] { "bench", "bench-engine" })
        {
            var command = new Command(name, $"Moved: sovereign-bench {name}.") { Hidden = true, TreatUnmatchedTokensAsErrors = false };
            command.SetAction(async (_, _) =>
            {
                await Console.Error.WriteLineAsync(
                    $"'sovereign {name}' moved to its own executable: run 'sovereign-bench {name} ...' with the same options "
                    + $"(from a checkout: dotnet run -c Release --project tools/SovereignInference.Bench -- {name} ...). See docs/bench.md.");
                return 2;
            });
            yield return command;
        }
    }
}
