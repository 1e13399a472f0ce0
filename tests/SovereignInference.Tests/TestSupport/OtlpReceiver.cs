using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// A stand-in OTLP collector on 127.0.0.1: records the path and body of every export it receives and answers
/// success, over HTTP/1.1 (http/protobuf: an empty protobuf body) or cleartext HTTP/2 (grpc: an empty message
/// with grpc-status 0). A real collector answers 404 to a path that is not a signal's.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(string Path, byte[] Body)> _posts = [];

    private OtlpReceiver(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    /// <summary>The receiver's base URL, e.g. http://127.0.0.1:41234 (no path).</summary>
    public Uri Endpoint { get; }

    /// <summary>Every export received so far, in order.</summary>
    public IReadOnlyList<(string Path, byte[] Body)> Posts
    {
        get
        {
            lock (_posts)
            {
                return _posts.ToArray();
            }
        }
    }

    public static async Task<OtlpReceiver> StartAsync(bool grpc)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = grpc ? HttpProtocols.Http2 : HttpProtocols.Http1));
        var app = builder.Build();
        OtlpReceiver? receiver = null;
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            lock (receiver!._posts)
            {
                receiver._posts.Add((context.Request.Path.Value ?? "", body.ToArray()));
            }

            if (grpc)
            {
                context.Response.ContentType = "application/grpc";
                await context.Response.Body.WriteAsync(new byte[5], context.RequestAborted); // uncompressed, zero-length message
                context.Response.AppendTrailer("grpc-status", "0");
            }
            else
            {
                context.Response.ContentType = "application/x-protobuf";
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver = new OtlpReceiver(app, new Uri(address));
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
