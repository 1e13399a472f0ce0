using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using SovereignInference.Gguf;
using SovereignInference.LlamaCpp;
using SovereignInference.Server.Grpc;
using SovereignInference.Server.Http;
using SovereignInference.Server.Http.BrowserConsole;
using SovereignInference.Server.Http.OpenAi;
using SovereignInference.Server.Http.OpenApi;
using SovereignInference.Server.Observability;
using SovereignInference.Server.Security;

namespace SovereignInference.Server.Hosting;

/// <summary>Builds the web application: configuration → engine → Kestrel listeners → endpoints.</summary>
public static class ServerHost
{
    public const string DemoModelFileName = "sovereign-demo.gguf";

    /// <param name="args">ASP.NET-style arguments (e.g. --Sovereign:Parallel=2); the CLI passes none.</param>
    /// <param name="overrides">Configuration values that win over appsettings.json and the environment.</param>
    /// <param name="configure">Runs on the builder before the application is built (tests add a log sink).</param>
    /// <param name="defaults">Configuration values below appsettings.json and the environment (serve's process isolation and load on demand).</param>
    public static WebApplication Build(string[] args, IEnumerable<KeyValuePair<string, string?>> overrides, Action<WebApplicationBuilder>? configure = null, IEnumerable<KeyValuePair<string, string?>>? defaults = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (defaults is not null)
        {
            builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = defaults });
        }

        builder.Configuration.AddInMemoryCollection(overrides);

        var section = builder.Configuration.GetSection(ServerOptions.Section);
        var engineOptions = section.Get<EngineOptions>() ?? new EngineOptions();
        var serverOptions = section.Get<ServerOptions>() ?? new ServerOptions();
        var problems = engineOptions.Validate();
        if (problems.Count > 0)
        {
            throw new ConfigurationException("Invalid configuration: " + string.Join("; ", problems));
        }

        EnsureDemoModel(engineOptions);

        builder.Services.AddSingleton(engineOptions);
        builder.Services.AddSingleton(serverOptions);
        builder.Services.AddSingleton<IModelBackend>(sp =>
        {
            LlamaBackend.Configure(engineOptions.NativeLibDir, sp.GetRequiredService<ILoggerFactory>().CreateLogger("llama.cpp"));
            return new LlamaBackend();
        });
        builder.Services.AddSingleton(sp => new InferenceEngine(
            sp.GetRequiredService<EngineOptions>(),
            sp.GetRequiredService<IModelBackend>(),
            sp.GetRequiredService<ILoggerFactory>(),
            WorkerLaunch.ForCurrentProcess("sovereign")));
        builder.Services.AddHostedService<EngineLifetime>();
        builder.AddSovereignGrpc(serverOptions);
        var lifecycle = section.Get<LifecycleOptions>() ?? new LifecycleOptions();
        builder.Services.AddSingleton(lifecycle);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = lifecycle.DrainTimeout + TimeSpan.FromSeconds(10));
        builder.AddSovereignSecurity(engineOptions, serverOptions);
        builder.AddSovereignObservability();
        builder.Services.AddOpenAiApi();
        builder.Services.AddSovereignOpenApi();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            Listen(kestrel, serverOptions.HttpUrl, HttpProtocols.Http1AndHttp2);
        });

        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseSovereignRequestMetrics();
        app.UseSovereignSecurity();
        app.UseSovereignObservability();
        app.MapHealthEndpoints();
        app.MapOpenAiEndpoints();
        app.MapSovereignOpenApi();
        app.MapSovereignConsole();
        app.MapSovereignGrpc();
        return app;
    }

    /// <summary>With no model configured, writes the scripted demo model so a fresh checkout serves at once.</summary>
    public static void EnsureDemoModel(EngineOptions options)
    {
        if (!options.DemoModelWhenEmpty || options.Model.Count > 0)
        {
            return;
        }

        if (Directory.Exists(options.ModelsDir) && Directory.EnumerateFiles(options.ModelsDir, "*.gguf").Any())
        {
            return;
        }

        Directory.CreateDirectory(options.ModelsDir);
        TestModelGenerator.WriteDemo(Path.Combine(options.ModelsDir, DemoModelFileName));
    }

    /// <summary>Adds a listener for <paramref name="url"/>; <paramref name="configure"/> sees every ListenOptions it creates.</summary>
    internal static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols, Action<ListenOptions>? configure = null)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"'{url}' is not an http:// or https:// URL");
        }

        void Configure(ListenOptions listen)
        {
            // HTTP/2 next to HTTP/1.1 needs TLS (ALPN); on cleartext the HTTP port speaks HTTP/1.1.
            if (uri.Scheme == Uri.UriSchemeHttps)
            {
                listen.Protocols = protocols;
                listen.UseHttps();
            }
            else
            {
                listen.Protocols = protocols == HttpProtocols.Http1AndHttp2 ? HttpProtocols.Http1 : protocols;
            }

            configure?.Invoke(listen);
        }

        var host = uri.Host.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(uri.Port, Configure);
        }
        else if (host is "*" or "+")
        {
            kestrel.ListenAnyIP(uri.Port, Configure);
        }
        else if (IPAddress.TryParse(host, out var address))
        {
            kestrel.Listen(address, uri.Port, Configure);
        }
        else
        {
            throw new InvalidOperationException($"listen host '{uri.Host}' must be an IP address or localhost");
        }
    }
}
