using System.Net;
using SovereignInference.Engine.Hosting;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server;

/// <summary>Every serve option is a configuration key: environment variables bind, and the command line wins.</summary>
public sealed class ConfigurationBindingTests
{
    [Fact]
    public async Task Environment_variables_bind_engine_options_and_command_line_values_win()
    {
        Environment.SetEnvironmentVariable("Sovereign__Parallel", "3");
        Environment.SetEnvironmentVariable("Sovereign__KvType", "q8_0");
        Environment.SetEnvironmentVariable("Sovereign__CtxSize", "96");
        try
        {
            // The harness passes CtxSize=512 as an override (what ServeCommand does with --ctx-size); it must win.
            await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Parallel"] = null, ["KvType"] = null });
            var options = (EngineOptions)server.Services.GetService(typeof(EngineOptions))!;

            Assert.Equal(3, options.Parallel);
            Assert.Equal("q8_0", options.KvType);
            Assert.Equal(512, options.CtxSize);
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health/ready")).StatusCode);
            Assert.Equal(3 * 512, server.Engine.GetReadyModel("scripted").Scheduler!.KvCellsCapacity);
        }
        finally
        {
            Environment.SetEnvironmentVariable("Sovereign__Parallel", null);
            Environment.SetEnvironmentVariable("Sovereign__KvType", null);
            Environment.SetEnvironmentVariable("Sovereign__CtxSize", null);
        }
    }
}
