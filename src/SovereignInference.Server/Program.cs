using System.CommandLine;
using SovereignInference.Server.Cli;
using SovereignInference.Server.Hosting;

var root = new RootCommand("sovereign: a self-hosted inference server for open-weight Mistral models (GGUF, llama.cpp).");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(MakeModelCommand.Create());
root.Subcommands.Add(MakeTekkenCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(WorkerCommand.Create());
foreach (var moved in MovedBenchCommands.Create())
{
    root.Subcommands.Add(moved);
}

// SIGTERM/SIGINT are left to the host, which drains (Sovereign:DrainTimeoutSeconds) and exits with 0.
// Bad settings (a configuration error, or an argument a command refuses) print their message alone and exit with 2;
// anything else is a defect and keeps its stack trace.
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is ConfigurationException or ArgumentException)
{
    await Console.Error.WriteLineAsync($"sovereign: {e.Message}");
    return 2;
}
