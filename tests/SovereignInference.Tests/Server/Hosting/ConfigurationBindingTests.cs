using System.Net;
using SovereignInference.Engine.Hosting;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Hosting;

/// <summary>Every serve option is a configuration key: environment variables bind, and the command line wins.</summary>
public sealed class ConfigurationBindingTests
{
    [Fact]
    public async Task Environment_variables_bind_engine_options_and_command_line_values_win()
    {
        Environment.SetEnvironmentVariable("Sovereign__Parallel", "3");
        Environment.SetEnvironmentVariable("Sovereign__KvType", "q8_0");
        Environment.SetEnvironmentVariable("Sovereign__CtxSize", "96");
        Environment.SetEnvironmentVariable("Sovereign__MaxStepFactor", "3.5");
        try
        {
            // The harness passes CtxSize=512 as an override (what ServeCommand does with --ctx-size); it must win.
            await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Parallel"] = null, ["KvType"] = null });
            var options = (EngineOptions)server.Services.GetService(typeof(EngineOptions))!;

            Assert.Equal(3, options.Parallel);
            Assert.Equal("q8_0", options.KvType);
            Assert.Equal(512, options.CtxSize);
            Assert.Equal(3.5, options.MaxStepFactor);
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health/ready")).StatusCode);
            Assert.Equal(3 * 512, server.Engine.GetReadyModel("scripted").Scheduler!.KvCellsCapacity);
        }
        finally
        {
            Environment.SetEnvironmentVariable("Sovereign__Parallel", null);
            Environment.SetEnvironmentVariable("Sovereign__KvType", null);
            Environment.SetEnvironmentVariable("Sovereign__CtxSize", null);
            Environment.SetEnvironmentVariable("Sovereign__MaxStepFactor", null);
        }
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(2, true)]
    [InlineData(1, false)]
    [InlineData(0.5, false)]
    [InlineData(-1, false)]
    public void Max_step_factor_is_off_or_above_one(double factor, bool valid)
    {
        var errors = new EngineOptions { MaxStepFactor = factor }.Validate();

        Assert.Equal(valid, !errors.Any(e => e.Contains("max-step-factor", StringComparison.Ordinal)));
    }
}
