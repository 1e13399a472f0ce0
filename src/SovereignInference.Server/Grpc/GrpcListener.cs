using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SovereignInference.Server.Grpc;

/// <summary>
/// The Kestrel listener of the gRPC API. It marks the connections it accepts, so that gRPC endpoints answer
/// only on this listener and the HTTP API's endpoints only on the others (see <see cref="IsGrpcConnection"/>).
/// </summary>
public sealed class GrpcListener
{
    private static readonly object ConnectionMarker = new();
    private ListenOptions? _listen;
    private string _scheme = Uri.UriSchemeHttp;

    /// <summary>
    /// The address clients dial, e.g. http://127.0.0.1:8081 (the bound port once the server has started,
    /// also for port 0), or null when the gRPC API is off.
    /// </summary>
    public Uri? Address => _listen?.IPEndPoint is { } endPoint ? new Uri($"{_scheme}://{endPoint}") : null;

    /// <summary>Whether the gRPC API is on (Sovereign:GrpcUrl is not empty).</summary>
    public bool Enabled { get; internal set; }

    /// <summary>Whether the request arrived on the gRPC listener.</summary>
    public static bool IsGrpcConnection(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(ConnectionMarker) == true;

    internal void Attach(ListenOptions listen, string url)
    {
        _listen = listen;
        _scheme = url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        listen.Use(next => connection =>
        {
            connection.Items[ConnectionMarker] = ConnectionMarker;
            return next(connection);
        });
    }
}
