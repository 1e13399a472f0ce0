using System.Net;
using System.Text.Json;
using SovereignInference.Engine.Hosting;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server;

/// <summary>`sovereign serve` on Kestrel at 127.0.0.1: readiness and the model list.</summary>
public sealed class HealthAndModelsEndpointTests
{
    [Fact]
    public async Task Ready_is_503_while_loading_and_200_once_every_model_is_loaded()
    {
        await using var server = await ServerHarness.StartAsync(waitUntilReady: false);

        var first = await server.Http.GetAsync("health/ready");
        var statuses = new List<HttpStatusCode> { first.StatusCode };
        await EngineHarness.WaitUntilAsync(() => server.Engine.IsLoadingComplete, TimeSpan.FromSeconds(60), "loaded");
        var ready = await server.Http.GetAsync("health/ready");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("ready", body.RootElement.GetProperty("status").GetString());
        // Whether the first probe beat the loader is a race; when it did, it must have said 503.
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable }));
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health/live")).StatusCode);
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
