using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using Grpc.Health.V1;
using SovereignInference.Contracts.V1;
using SovereignInference.Tests.TestSupport;
using StatusCode = Grpc.Core.StatusCode;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>
/// Raw HTTP/2 frames against the real gRPC listener: sizes between the HTTP body limit and the gRPC message limit
/// are served, and every malformed frame or message gets its documented status (never UNKNOWN) with no error log.
/// </summary>
public sealed class GrpcWireTests
{
    private const string Generate = "/sovereign.inference.v1.Inference/Generate";
    private const string Tokenize = "/sovereign.inference.v1.Inference/Tokenize";
    private const string HealthCheck = "/grpc.health.v1.Health/Check";
    private const string Reflection = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

    [Fact]
    public async Task A_3_MiB_message_is_served_above_the_2_MiB_HTTP_body_limit_and_a_5_MiB_one_is_RESOURCE_EXHAUSTED()
    {
        await using var server = await ServerHarness.StartAsync();
        using var http = RawGrpc.Client();

        // A valid request of 3 MiB: a short prompt plus an unknown field (proto3 keeps and ignores unknown fields).
        var ok = await RawGrpc.CallAsync(http, server.GrpcBase!, Generate, RawGrpc.Frame(WithUnknownField(HelloRequest(), 3 << 20)));
        Assert.True(ok.Status == StatusCode.OK, ok.ToString());
        Assert.Equal(" Hello world!", string.Concat(Messages(ok.Body, GenerateResponse.Parser).Select(r => r.Text)));

        // A 3 MiB text reaches the engine (not cut by the HTTP body limit) and meets the same rule as HTTP /tokenize:
        // at most InferenceEngine.MaxTokenizeChars characters; 1 MiB of text is tokenized.
        var tooLong = await RawGrpc.CallAsync(http, server.GrpcBase!, Tokenize, RawGrpc.Frame(new TokenizeRequest { Model = "scripted", Text = new string('a', 3 << 20) }));
        Assert.True(tooLong.Status == StatusCode.InvalidArgument && tooLong.ToString().Contains("at most 1048576 characters", StringComparison.Ordinal), tooLong.ToString());
        var tokenized = await RawGrpc.CallAsync(http, server.GrpcBase!, Tokenize, RawGrpc.Frame(new TokenizeRequest { Model = "scripted", Text = new string('a', 1 << 20) }));
        Assert.True(tokenized.Status == StatusCode.OK, tokenized.ToString());
        Assert.NotEmpty(Assert.Single(Messages(tokenized.Body, TokenizeResponse.Parser)).TokenIds);

        var large = await RawGrpc.CallAsync(http, server.GrpcBase!, Generate, RawGrpc.Frame(WithUnknownField(HelloRequest(), 5 << 20)));
        Assert.True(large.Status == StatusCode.ResourceExhausted, large.ToString());

        await AssertStillServesAsync(http, server);
        server.Logs.AssertNoErrors();
        var metrics = await server.Http.GetStringAsync("metrics");
        Assert.Contains("sovereign_requests_refused_total{transport=\"grpc\",route=\"/sovereign.inference.v1.Inference/Generate\",reason=\"too_large\"} 1", metrics, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, StatusCode> BadFrames => new()
    {
        // case, method, documented status
        { "garbage bytes", Generate, StatusCode.InvalidArgument },
        { "truncated varint", Generate, StatusCode.InvalidArgument },
        { "invalid UTF-8 in a string field", Generate, StatusCode.InvalidArgument },
        { "invalid wire type 7", Tokenize, StatusCode.InvalidArgument },
        { "nesting past the recursion limit", Generate, StatusCode.InvalidArgument },
        { "compressed flag without grpc-encoding", Generate, StatusCode.Internal },
        { "compressed flag on data that is not gzip", Generate, StatusCode.Internal },
        { "compressed flag 2", Generate, StatusCode.Internal },
        { "unsupported grpc-encoding", Generate, StatusCode.Unimplemented },
        { "length prefix 2^32-1", Generate, StatusCode.ResourceExhausted },
        { "body ends inside the message", Generate, StatusCode.InvalidArgument },
        { "body ends inside the prefix", Tokenize, StatusCode.InvalidArgument },
        { "no message", Tokenize, StatusCode.Unimplemented },
        { "two messages", Tokenize, StatusCode.Unimplemented },
        { "garbage to Health.Check", HealthCheck, StatusCode.InvalidArgument },
        { "garbage to the reflection stream", Reflection, StatusCode.InvalidArgument },
        { "invalid UTF-8 in the reflection stream", Reflection, StatusCode.InvalidArgument },
        { "reflection stream ends inside a message", Reflection, StatusCode.InvalidArgument },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task A_bad_frame_or_message_gets_its_documented_status_and_no_error_log(string name, string method, StatusCode expected)
    {
        await using var server = await ServerHarness.StartAsync();
        using var http = RawGrpc.Client();
        var hello = HelloRequest().ToByteArray();
        string? encoding = null;
        var body = name switch
        {
            "garbage bytes" or "garbage to Health.Check" or "garbage to the reflection stream" => RawGrpc.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            "truncated varint" => RawGrpc.Frame([0x0A, 0x80]),
            "invalid UTF-8 in a string field" => RawGrpc.Frame([.. hello, 0x0A, 0x02, 0xC3, 0x28]),
            "invalid UTF-8 in the reflection stream" => RawGrpc.Frame([0x0A, 0x02, 0xC3, 0x28]),
            "invalid wire type 7" => RawGrpc.Frame([0x0F, 0x01, 0x02, 0x03, 0x04]),
            "nesting past the recursion limit" => RawGrpc.Frame(Nested(200)),
            "compressed flag without grpc-encoding" => RawGrpc.Frame(hello, flag: 1),
            "compressed flag on data that is not gzip" => Encoded(RawGrpc.Frame(hello, flag: 1), "gzip", out encoding),
            "compressed flag 2" => RawGrpc.Frame(hello, flag: 2),
            "unsupported grpc-encoding" => Encoded(RawGrpc.Frame(Gzip(hello), flag: 1), "br", out encoding),
            "length prefix 2^32-1" => RawGrpc.Frame(hello, length: uint.MaxValue),
            "body ends inside the message" or "reflection stream ends inside a message" => RawGrpc.Frame(hello, length: (uint)hello.Length + 100),
            "body ends inside the prefix" => [0, 0, 0],
            "no message" => [],
            "two messages" => [.. RawGrpc.Frame(new TokenizeRequest { Model = "scripted", Text = "hi" }), .. RawGrpc.Frame(new TokenizeRequest { Model = "scripted", Text = "hi" })],
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };

        var result = await RawGrpc.CallAsync(http, server.GrpcBase!, method, body, encoding);

        Assert.Equal(HttpStatusCode.OK, result.Http);
        Assert.True(result.Status == expected, $"{name}: {result}");
        Assert.False(string.IsNullOrEmpty(result.Message));
        await AssertStillServesAsync(http, server);
        server.Logs.AssertNoErrors();
    }

    [Fact]
    public async Task Gzip_compressed_requests_are_decompressed_and_served()
    {
        await using var server = await ServerHarness.StartAsync();
        using var http = RawGrpc.Client();

        var result = await RawGrpc.CallAsync(http, server.GrpcBase!, Generate, RawGrpc.Frame(Gzip(HelloRequest().ToByteArray()), flag: 1), encoding: "gzip");

        Assert.True(result.Status == StatusCode.OK, result.ToString());
        Assert.Equal(" Hello world!", string.Concat(Messages(result.Body, GenerateResponse.Parser).Select(r => r.Text)));
        server.Logs.AssertNoErrors();
    }

    internal static GenerateRequest HelloRequest() => GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"));

    internal static async Task AssertStillServesAsync(HttpClient http, ServerHarness server)
    {
        var ok = await RawGrpc.CallAsync(http, server.GrpcBase!, Generate, RawGrpc.Frame(HelloRequest()));
        Assert.True(ok.Status == StatusCode.OK, ok.ToString());
        Assert.Equal(" Hello world!", string.Concat(Messages(ok.Body, GenerateResponse.Parser).Select(r => r.Text)));
        var health = await RawGrpc.CallAsync(http, server.GrpcBase!, HealthCheck, RawGrpc.Frame(new HealthCheckRequest()));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, Assert.Single(Messages(health.Body, HealthCheckResponse.Parser)).Status);
    }

    /// <summary>The length-prefixed messages of a response body.</summary>
    internal static List<T> Messages<T>(byte[] body, MessageParser<T> parser)
        where T : IMessage<T>
    {
        var messages = new List<T>();
        var offset = 0;
        while (offset + 5 <= body.Length)
        {
            var length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(offset + 1));
            messages.Add(parser.ParseFrom(body, offset + 5, length));
            offset += 5 + length;
        }

        return messages;
    }

    private static byte[] WithUnknownField(IMessage message, int size)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        message.WriteTo(output);
        output.WriteTag(1000, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(new byte[size]));
        output.Flush();
        return stream.ToArray();
    }

    /// <summary>An unknown field of nested groups, deeper than protobuf's recursion limit (100).</summary>
    private static byte[] Nested(int depth)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        for (var i = 0; i < depth; i++)
        {
            output.WriteTag(1000, WireFormat.WireType.StartGroup);
        }

        for (var i = 0; i < depth; i++)
        {
            output.WriteTag(1000, WireFormat.WireType.EndGroup);
        }

        output.Flush();
        return stream.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Encoded(byte[] body, string name, out string? encoding)
    {
        encoding = name;
        return body;
    }
}
