using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using SovereignInference.Gguf;
using SovereignInference.Server.Grpc;
using SovereignInference.Server.Hosting;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// The real server (the same <see cref="ServerHost.Build"/> `sovereign serve` runs) on Kestrel at
/// 127.0.0.1 with an ephemeral port, over real llama.cpp and generated models.
/// </summary>
public sealed class ServerHarness : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private ServerHarness(WebApplication app, Uri httpBase, Uri? grpcBase, CapturedLogs logs)
    {
        _app = app;
        Logs = logs;
        HttpBase = httpBase;
        GrpcBase = grpcBase;
        Http = new HttpClient { BaseAddress = httpBase, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Base address of the HTTP API, e.g. http://127.0.0.1:41234/.</summary>
    public Uri HttpBase { get; }

    public HttpClient Http { get; }


    /// <summary>Base address of the gRPC API (its own HTTP/2 listener), e.g. http://127.0.0.1:41235; null when it is off.</summary>
    public Uri? GrpcBase { get; }

    /// <summary>The server's log entries at Warning and above, from start on.</summary>
    public CapturedLogs Logs { get; }

    public InferenceEngine Engine => _app.Services.GetRequiredService<InferenceEngine>();

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a server. <paramref name="settings"/> are configuration keys under "Sovereign"
    /// (e.g. ["Parallel"] = "2"; null removes a default); models default to the scripted test model with id
    /// "scripted" unless a "Model:N" key is given.
    /// </summary>
    /// <param name="apiKey">Sent as "Authorization: Bearer" by <see cref="Http"/> (servers with keys configured).</param>
    /// <param name="services">Runs after the server's own registrations (e.g. a <see cref="HeldBackend"/> as IModelBackend).</param>
    public static async Task<ServerHarness> StartAsync(
        IDictionary<string, string?>? settings = null,
        bool waitUntilReady = true,
        string? apiKey = null,
        Action<IServiceCollection>? services = null)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["ModelsDir"] = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            ["HttpUrl"] = "http://127.0.0.1:0",
            ["GrpcUrl"] = "http://127.0.0.1:0",
            ["DemoModelWhenEmpty"] = "false",
            ["Parallel"] = "4",
            ["CtxSize"] = "512",
            ["Threads"] = "2",
        };
        if (settings is null || !settings.Keys.Any(k => k.StartsWith("Model", StringComparison.OrdinalIgnoreCase) && k != "ModelsDir"))
        {
            var path = ScriptedModels.Engine.Path;
            values["Model:0"] = path;
            values[$"Aliases:{Path.GetFileName(path)}"] = "scripted";
        }

        // A null value removes the harness default, so the environment or appsettings.json decide.
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                values.Remove(key);
            }
            else
            {
                values[key] = value;
            }
        }

        var logs = new CapturedLogs();
        var app = ServerHost.Build(
            [],
            values.Select(kv => new KeyValuePair<string, string?>($"{ServerOptions.Section}:{kv.Key}", kv.Value)),
            builder =>
            {
                builder.Logging.AddProvider(logs);
                services?.Invoke(builder.Services);
            });
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var grpcBase = app.Services.GetRequiredService<GrpcListener>().Address;
        var httpBase = addresses.Select(a => new Uri(a + "/")).First(a => grpcBase is null || a.Port != grpcBase.Port);
        var harness = new ServerHarness(app, httpBase, grpcBase, logs);
        if (apiKey is not null)
        {
            harness.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }
        if (waitUntilReady)
        {
            await EngineHarness.WaitUntilAsync(() => harness.Engine.IsLoadingComplete, TimeSpan.FromSeconds(60), "models loaded");
        }

        return harness;
    }

    /// <summary>
    /// Settings that serve each of <paramref name="models"/> under its id (Model:N plus an alias per file), for
    /// <see cref="StartAsync"/>; add further keys to the returned dictionary as needed.
    /// </summary>
    public static Dictionary<string, string?> ModelSettings(params (string Id, string Path)[] models)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < models.Length; i++)
        {
            settings[$"Model:{i}"] = models[i].Path;
            settings[$"Aliases:{System.IO.Path.GetFileName(models[i].Path)}"] = models[i].Id;
        }

        return settings;
    }

    /// <summary>The random "tiny" model and the scripted test model, served as "tiny" and "scripted".</summary>
    public static Dictionary<string, string?> TinyAndScripted() =>
        ModelSettings(("tiny", TestModels.Tiny().Path), ("scripted", ScriptedModels.Engine.Path));

    /// <summary>What SIGTERM does: the host stops (drain, then Kestrel), without disposing it yet.</summary>
    public async Task StopAsync()
    {
        _stopped = true;
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_stopped)
        {
            await _app.StopAsync();
        }

        await _app.DisposeAsync();
    }
}
