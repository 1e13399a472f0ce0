using System.CommandLine;
using SovereignInference.Server.Cli;

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
// Bad settings (a configuration error, or a setting the engine or a command refuses) print their message alone and exit
// with 2; anything else, a plain ArgumentException included, is a defect and keeps its stack trace.
return await SettingErrors.InvokeAsync(root.Parse(args));
