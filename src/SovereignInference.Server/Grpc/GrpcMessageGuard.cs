using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Net.Compression;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using SovereignInference.Server.Observability;

namespace SovereignInference.Server.Grpc;

/// <summary>
/// Runs on the gRPC listener before the gRPC endpoint. Kestrel's HTTP body limit (Sovereign:MaxRequestBodyBytes)
/// does not apply to gRPC calls: their limit is per message (Sovereign:GrpcMaxReceiveBytes). For methods whose
/// request is one message (unary and server streaming) it reads and checks that message before grpc-dotnet does,
/// because grpc-dotnet deserializes it before any interceptor runs and turns a bad message into UNKNOWN with an
/// error log. A bad request ends here with a trailers-only response:
/// <list type="table">
/// <item><term>RESOURCE_EXHAUSTED</term><description>the frame's length prefix (or the decompressed message) is over the limit</description></item>
/// <item><term>INTERNAL</term><description>compression errors, as the gRPC spec says: the compressed flag set without a grpc-encoding (or with "identity"), a flag other than 0 and 1, or data that does not decompress</description></item>
/// <item><term>UNIMPLEMENTED</term><description>a grpc-encoding the server does not support (with grpc-accept-encoding); no message or more than one message (request cardinality violation)</description></item>
/// <item><term>INVALID_ARGUMENT</term><description>a truncated frame (the body ends inside the 5-byte prefix or the message), or a message that is not valid protobuf for the method's request type (bad wire type, truncated varint, invalid UTF-8 in a string field, nesting past the recursion limit, …)</description></item>
/// </list>
/// Each is logged at Information (event 3004) and counted in sovereign_requests_refused_total. A good message
/// goes on to grpc-dotnet unchanged, from a buffer.
/// </summary>
internal sealed partial class GrpcMessageGuard
{
    private const int PrefixLength = 5;

    private readonly RequestDelegate _next;
    private readonly ILogger<GrpcMessageGuard> _logger;
    private readonly int _limit;
    private readonly IReadOnlyList<ICompressionProvider> _compression;
    private readonly FrozenDictionary<string, MessageDescriptor> _requests;

    public GrpcMessageGuard(RequestDelegate next, IOptions<GrpcServiceOptions> options, ILogger<GrpcMessageGuard> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _next = next;
        _logger = logger;
        _limit = options.Value.MaxReceiveMessageSize ?? int.MaxValue;
        _compression = [.. options.Value.CompressionProviders];
        _requests = SingleMessageRequests(Contracts.V1.Inference.Descriptor, global::Grpc.Health.V1.Health.Descriptor);
    }

    /// <summary>"/package.Service/Method" → the request message's descriptor, for methods whose request is one message.</summary>
    public static FrozenDictionary<string, MessageDescriptor> SingleMessageRequests(params Google.Protobuf.Reflection.ServiceDescriptor[] services) =>
        services
            .SelectMany(s => s.Methods.Where(m => !m.IsClientStreaming).Select(m => (Path: $"/{s.FullName}/{m.Name}", Request: m.InputType)))
            .ToFrozenDictionary(p => p.Path, p => p.Request, StringComparer.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        if (method is null)
        {
            await _next(context);
            return;
        }

        // gRPC limits each message (GrpcMaxReceiveBytes); the HTTP API's body limit must not cut a stream below it.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        if (!_requests.TryGetValue(method.FullName, out var request) || !IsGrpcContentType(context.Request.ContentType))
        {
            await _next(context);
            return;
        }

        var (frame, refusal) = await ReadSingleMessageAsync(context, request);
        if (refusal is { } status)
        {
            LogRefused(_logger, method.FullName, status.StatusCode, status.Detail);
            RequestMetrics.CountRefusal(context, status.StatusCode == StatusCode.ResourceExhausted ? RefusalReason.TooLarge : RefusalReason.Malformed);
            WriteTrailersOnly(context, status);
            return;
        }

        var body = new MemoryStream(frame!, writable: false);
        context.Request.Body = body;
        context.Features.Set<IRequestBodyPipeFeature>(new BufferedBody(PipeReader.Create(new ReadOnlySequence<byte>(frame!))));
        await _next(context);
    }

    private static bool IsGrpcContentType(string? contentType) =>
        contentType is { } type
        && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
        && (type.Length == "application/grpc".Length || type["application/grpc".Length] is '+' or ';');

    private async Task<(byte[]? Frame, Status? Refusal)> ReadSingleMessageAsync(HttpContext context, MessageDescriptor request)
    {
        var reader = context.Request.BodyReader;
        var aborted = context.RequestAborted;
        long? frameLength = null;
        byte flag = 0;
        byte[]? frame = null;
        while (true)
        {
            var result = await reader.ReadAsync(aborted);
            var buffer = result.Buffer;
            if (frameLength is null && buffer.Length >= PrefixLength)
            {
                (flag, var length) = ReadPrefix(buffer);
                if (length > _limit)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    return (null, new Status(StatusCode.ResourceExhausted, $"Received message larger than max ({length} vs. {_limit})"));
                }

                frameLength = PrefixLength + (long)length;
            }

            if (frame is null && frameLength is { } needed && buffer.Length >= needed)
            {
                frame = buffer.Slice(0, needed).ToArray();
            }

            if (result.IsCompleted)
            {
                var total = buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (total == 0)
                {
                    return (null, new Status(StatusCode.Unimplemented, "No request message: this method takes exactly one (request cardinality violation)"));
                }

                if (frame is null)
                {
                    return (null, new Status(StatusCode.InvalidArgument, $"Incomplete message: the request body ends after {total} bytes, inside the message frame"));
                }

                if (total > frame.Length)
                {
                    return (null, new Status(StatusCode.Unimplemented, "More than one request message: this method takes exactly one (request cardinality violation)"));
                }

                break;
            }

            if (frame is not null && buffer.Length > frame.Length)
            {
                reader.AdvanceTo(buffer.End);
                return (null, new Status(StatusCode.Unimplemented, "More than one request message: this method takes exactly one (request cardinality violation)"));
            }

            // Keep everything buffered until the whole frame is there; a frame is at most the limit plus its prefix.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }

        var (message, refusal) = Payload(context, frame, flag);
        if (refusal is not null)
        {
            return (null, refusal);
        }

        try
        {
            request.Parser.ParseFrom(message);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or DecoderFallbackException or ArgumentException)
        {
            return (null, new Status(StatusCode.InvalidArgument, $"The request message is not a valid {request.FullName}: {ex.Message}"));
        }

        return (frame, null);
    }

    /// <summary>The compressed flag and the big-endian message length of a frame's 5-byte prefix.</summary>
    private static (byte Flag, uint Length) ReadPrefix(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[PrefixLength];
        buffer.Slice(0, PrefixLength).CopyTo(prefix);
        return (prefix[0], BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]));
    }

    /// <summary>The message bytes of a complete frame, decompressed when its flag says so.</summary>
    private (byte[] Message, Status? Refusal) Payload(HttpContext context, byte[] frame, byte flag)
    {
        var data = frame.AsMemory(PrefixLength);
        if (flag == 0)
        {
            return (data.ToArray(), null);
        }

        if (flag != 1)
        {
            return ([], new Status(StatusCode.Internal, $"Invalid compressed flag {flag} in the message prefix (0 or 1)"));
        }

        var encoding = context.Request.Headers["grpc-encoding"].ToString();
        if (encoding.Length == 0 || string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase))
        {
            return ([], new Status(StatusCode.Internal, "The message is marked compressed but the request has no grpc-encoding"));
        }

        var provider = _compression.FirstOrDefault(p => string.Equals(p.EncodingName, encoding, StringComparison.OrdinalIgnoreCase));
        if (provider is null)
        {
            context.Response.Headers["grpc-accept-encoding"] = string.Join(',', _compression.Select(p => p.EncodingName).Prepend("identity"));
            return ([], new Status(StatusCode.Unimplemented, $"Unsupported grpc-encoding '{Printable(encoding)}'"));
        }

        try
        {
            using var compressed = new MemoryStream(frame, PrefixLength, frame.Length - PrefixLength, writable: false);
            using var decompressor = provider.CreateDecompressionStream(compressed);
            using var output = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = decompressor.Read(chunk)) > 0)
            {
                output.Write(chunk, 0, read);
                if (output.Length > _limit)
                {
                    return ([], new Status(StatusCode.ResourceExhausted, $"Received message larger than max (over {_limit} bytes once decompressed)"));
                }
            }

            return (output.ToArray(), null);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            return ([], new Status(StatusCode.Internal, $"The message could not be decompressed with {provider.EncodingName}"));
        }
    }

    private static void WriteTrailersOnly(HttpContext context, Status status)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = PercentEncode(status.Detail);
    }

    /// <summary>grpc-message encoding: UTF-8 bytes outside printable ASCII, and '%', as %XX.</summary>
    private static string PercentEncode(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static string Printable(string text) =>
        new([.. text.Take(32).Select(c => c is >= ' ' and <= '~' ? c : '?')]);

    [LoggerMessage(EventId = ServerEventIds.GrpcMessageRefused, Level = LogLevel.Information, Message = "gRPC {Method} refused before the handler: {Status} {Detail}")]
    private static partial void LogRefused(ILogger logger, string method, StatusCode status, string detail);

    private sealed class BufferedBody(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; } = reader;
    }
}
