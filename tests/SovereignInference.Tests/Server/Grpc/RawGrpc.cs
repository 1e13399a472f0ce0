using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>
/// gRPC calls as raw HTTP/2 requests (h2c, prior knowledge), so tests can send frames no gRPC client would:
/// garbage, truncated prefixes, wrong compressed flags, absurd length prefixes.
/// </summary>
internal static class RawGrpc
{
    public static HttpClient Client() => new(new SocketsHttpHandler())
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>A length-prefixed message: compressed flag, big-endian length (the real one unless given), bytes.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message, byte flag = 0, uint? length = null)
    {
        var frame = new byte[5 + message.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), length ?? (uint)message.Length);
        message.CopyTo(frame.AsSpan(5));
        return frame;
    }

    public static byte[] Frame(IMessage message) => Frame(message.ToByteArray());

    /// <summary>POSTs <paramref name="body"/> to /<paramref name="method"/> and reads the whole response and its status.</summary>
    public static async Task<RawResult> CallAsync(HttpClient client, Uri grpcBase, string method, byte[] body, string? encoding = null, string timeout = "10S")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(grpcBase, method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("grpc-timeout", timeout);
        if (encoding is not null)
        {
            request.Headers.TryAddWithoutValidation("grpc-encoding", encoding);
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        var content = await response.Content.ReadAsByteArrayAsync();
        var status = Header(response, "grpc-status");
        var message = Header(response, "grpc-message");
        return new RawResult(
            response.StatusCode,
            status is null ? null : (global::Grpc.Core.StatusCode)int.Parse(status, System.Globalization.CultureInfo.InvariantCulture),
            message is null ? null : Uri.UnescapeDataString(message),
            content);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.TrailingHeaders.TryGetValues(name, out var trailer) ? trailer.First()
        : response.Headers.TryGetValues(name, out var header) ? header.First()
        : null;
}

/// <summary>The HTTP status, gRPC status and message, and the response body (length-prefixed messages).</summary>
internal sealed record RawResult(HttpStatusCode Http, global::Grpc.Core.StatusCode? Status, string? Message, byte[] Body)
{
    public override string ToString() => $"HTTP {(int)Http}, grpc-status {Status}, '{Message}', {Body.Length} body bytes";
}
