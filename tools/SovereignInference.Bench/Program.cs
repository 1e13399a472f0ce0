using System.CommandLine;
using SovereignInference.Bench.Cli;

var root = new RootCommand("sovereign-bench: load tests for a running server (bench) and in-process engine measurements (bench-engine).");
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(BenchEngineCommand.Create());
return await root.Parse(args).InvokeAsync();
