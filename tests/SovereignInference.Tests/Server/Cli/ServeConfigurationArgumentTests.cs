using SovereignInference.Server.Cli;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Cli;

/// <summary>`sovereign serve --Sovereign:Key=value`: the configuration form docs/operations.md promises.</summary>
public sealed class ServeConfigurationArgumentTests
{
    [Fact]
    public void Configuration_keys_pass_through_in_both_forms_and_other_tokens_are_unknown()
    {
        Assert.Equal(
            ["--Sovereign:Parallel=2", "--Sovereign:ApiKeys:0:Name", "alice"],
            ServeCommand.ConfigurationArguments(["--Sovereign:Parallel=2", "--Sovereign:ApiKeys:0:Name", "alice"], out var unknown));
        Assert.Null(unknown);

        ServeCommand.ConfigurationArguments(["--Sovereign:Parallel=2", "--bogus"], out unknown);
        Assert.Equal("--bogus", unknown);
        ServeCommand.ConfigurationArguments(["--Logging:LogLevel:Default=Debug"], out unknown);
        Assert.Equal("--Logging:LogLevel:Default=Debug", unknown);
        ServeCommand.ConfigurationArguments(["--Sovereign:Parallel"], out unknown);
        Assert.Equal("--Sovereign:Parallel", unknown);
    }

    [Fact]
    public async Task A_Sovereign_key_on_the_command_line_reaches_the_configuration()
    {
        // Parallel=0 is invalid, so the server refuses to start, naming the value: proof the key was read.
        var (exit, _, error) = await CommandLineRunner.InvokeAsync([ServeCommand.Create()], "serve", "--Sovereign:Parallel=0", "--Sovereign:DemoModelWhenEmpty=false");
        Assert.NotEqual(0, exit);
        Assert.Contains("parallel must be 1..256 (got 0)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_argument_is_still_refused()
    {
        var (exit, _, error) = await CommandLineRunner.InvokeAsync([ServeCommand.Create()], "serve", "--no-such-option");
        Assert.Equal(1, exit);
        Assert.Contains("Unrecognized command or argument '--no-such-option'", error, StringComparison.Ordinal);
    }
}
