using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Models;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http;

/// <summary>`sovereign serve` on Kestrel at 127.0.0.1: readiness and the model list.</summary>
public sealed class HealthAndModelsEndpointTests
{
    [Fact]
    public async Task Ready_is_503_while_loading_and_200_once_every_model_is_loaded()
    {
        var backend = new HeldBackend(holdLoads: true);
        await using var server = await ServerHarness.StartAsync(
            waitUntilReady: false,
            services: s => s.AddSingleton<IModelBackend>(backend));
        try
        {
            await backend.LoadStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));

            var loading = await server.Http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, loading.StatusCode);
            using (var body = JsonDocument.Parse(await loading.Content.ReadAsStringAsync()))
            {
                Assert.Equal("loading", body.RootElement.GetProperty("status").GetString());
            }

            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health/live")).StatusCode);
            Assert.Equal(ModelState.Loading, server.Engine.Models.Single().State);
        }
        finally
        {
            backend.ReleaseLoads(); // also when an assertion failed, so the server can stop
        }

        await EngineHarness.WaitUntilAsync(() => server.Engine.IsLoadingComplete, TimeSpan.FromSeconds(60), "loaded");
        var ready = await server.Http.GetAsync("health/ready");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var readyBody = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("ready", readyBody.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_is_503_when_no_model_could_be_loaded()
    {
        using var dir = new TempDirectory();
        await File.WriteAllBytesAsync(dir.File("broken.gguf"), "GGUF"u8.ToArray());
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["ModelsDir"] = dir.Path, ["Model:0"] = null });

        var response = await server.Http.GetAsync("health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("broken.gguf", text, StringComparison.Ordinal);
        Assert.Equal(ModelState.Failed, server.Engine.Models.Single().State);
    }

    [Fact]
    public async Task Models_lists_the_loaded_model_with_provenance()
    {
        await using var server = await ServerHarness.StartAsync();

        using var list = JsonDocument.Parse(await server.Http.GetStringAsync("v1/models"));
        var model = Assert.Single(list.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal("scripted", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal(64, model.GetProperty("sha256").GetString()!.Length);
        Assert.Equal("llama", model.GetProperty("architecture").GetString());
        Assert.Equal(new FileInfo(ScriptedModels.Engine.Path).Length, model.GetProperty("file_size").GetInt64());

        var one = await server.Http.GetAsync("v1/models/scripted");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var missing = await server.Http.GetAsync("v1/models/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var error = JsonDocument.Parse(await missing.Content.ReadAsStringAsync());
        Assert.Equal("model_not_found", error.RootElement.GetProperty("error").GetProperty("code").GetString());
    }
}
