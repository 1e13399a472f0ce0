using Google.Protobuf;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using SovereignInference.Contracts.V1;
using SovereignInference.Tests.TestSupport;
using StatusCode = Grpc.Core.StatusCode;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>
/// A seeded fuzz run over every gRPC method the server maps: valid messages, mutated (bit flips, truncation,
/// inserted and random bytes, appended random fields) and framed with occasional wrong length prefixes and
/// compressed flags. Every call must end with a status the docs give for client input (never UNKNOWN, INTERNAL
/// only for a compressed flag the request cannot honour), the server must log no error, and it must still serve.
/// </summary>
public sealed class GrpcFuzzTests
{
    private const int Seed = 20_261_202;
    private const int CallsPerMethod = 24;

    private static readonly StatusCode[] ClientStatuses =
    [
        StatusCode.OK, StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.ResourceExhausted,
        StatusCode.Unimplemented, StatusCode.DeadlineExceeded, StatusCode.Cancelled,
    ];

    [Fact]
    public async Task Random_and_mutated_messages_to_every_method_get_documented_statuses_and_no_error_log()
    {
        await using var server = await ServerHarness.StartAsync();
        using var http = RawGrpc.Client();
        var random = new Random(Seed);
        var failures = new List<string>();
        var seen = new Dictionary<StatusCode, int>();

        foreach (var (method, seeds) in Methods())
        {
            for (var i = 0; i < CallsPerMethod; i++)
            {
                var message = Mutate(random, seeds[random.Next(seeds.Length)].ToByteArray());
                var (body, compressedFlag) = FrameOf(random, message);
                var result = await RawGrpc.CallAsync(http, server.GrpcBase!, method, body, timeout: method.EndsWith("/Watch", StringComparison.Ordinal) ? "300m" : "5S");
                var status = result.Status ?? StatusCode.Unknown;
                seen[status] = seen.GetValueOrDefault(status) + 1;
                var allowed = ClientStatuses.Contains(status) || (status == StatusCode.Internal && compressedFlag);
                if (!allowed)
                {
                    failures.Add($"{method} #{i} [{Convert.ToHexString(body.AsSpan(0, Math.Min(body.Length, 48)))}]: {result}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(seen.GetValueOrDefault(StatusCode.OK) > 0, "no call succeeded: the mutations are too aggressive to test the handlers");
        Assert.True(seen.GetValueOrDefault(StatusCode.InvalidArgument) > 0, "no call was refused as INVALID_ARGUMENT");
        await GrpcWireTests.AssertStillServesAsync(http, server);
        server.Logs.AssertNoErrors();
    }

    /// <summary>Every method mapped on the gRPC listener with valid seed messages.</summary>
    private static IEnumerable<(string Method, IMessage[] Seeds)> Methods()
    {
        const string Inference = "/sovereign.inference.v1.Inference/";
        var greedy = new SamplingParams { Temperature = 0, MaxTokens = 4 };
        yield return (Inference + "Generate",
        [
            new GenerateRequest { Model = "scripted", Text = "[INST] hi [/INST]", Sampling = greedy },
            GrpcTestClient.Greedy(ScriptedModels.Prompt("[/INST]"), maxTokens: 4),
        ]);
        yield return (Inference + "Chat",
        [
            new ChatRequest { Model = "scripted", Messages = { new ChatMessage { Role = ChatRole.User, Content = "hello" } }, Sampling = greedy },
            new ChatRequest
            {
                Model = "scripted",
                Messages = { new ChatMessage { Role = ChatRole.User, Content = "weather?" } },
                Tools = { new Tool { Name = "get_weather", ParametersJson = "{\"type\":\"object\"}" } },
                Sampling = greedy,
            },
        ]);
        yield return (Inference + "Tokenize", [new TokenizeRequest { Model = "scripted", Text = "Hello world", WithPieces = true }]);
        yield return (Inference + "Detokenize", [new DetokenizeRequest { Model = "scripted", TokenIds = { 1, 2, 3 } }]);
        yield return (Inference + "Embed", [new EmbedRequest { Model = "scripted", Inputs = { "Hello" } }]);
        yield return (Inference + "ListModels", [new ListModelsRequest()]);
        yield return (Inference + "GetModel", [new GetModelRequest { Id = "scripted" }]);
        yield return ("/grpc.health.v1.Health/Check", [new HealthCheckRequest(), new HealthCheckRequest { Service = "scripted" }]);
        yield return ("/grpc.health.v1.Health/Watch", [new HealthCheckRequest { Service = "scripted" }]);
        IMessage[] reflection =
        [
            new ServerReflectionRequest { ListServices = "*" },
            new ServerReflectionRequest { FileContainingSymbol = "sovereign.inference.v1.Inference" },
        ];
        yield return ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", reflection);
        yield return ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", reflection);
    }

    /// <summary>One of: unchanged, bit flips, truncation, inserted bytes, random bytes, an appended random field.</summary>
    private static byte[] Mutate(Random random, byte[] message)
    {
        var bytes = message.ToList();
        switch (random.Next(6))
        {
            case 0:
                break;
            case 1:
                for (var k = random.Next(1, 4); k > 0 && bytes.Count > 0; k--)
                {
                    bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                }

                break;
            case 2:
                bytes = bytes.Take(random.Next(bytes.Count + 1)).ToList();
                break;
            case 3:
                bytes.InsertRange(random.Next(bytes.Count + 1), RandomBytes(random, random.Next(1, 8)));
                break;
            case 4:
                bytes = [.. RandomBytes(random, random.Next(0, 64))];
                break;
            default:
                // A random field number and wire type with random content: unknown fields, wrong types, bad lengths.
                var tag = (uint)((random.Next(1, 40) << 3) | random.Next(8));
                do
                {
                    bytes.Add((byte)((tag & 0x7Fu) | (tag > 0x7Fu ? 0x80u : 0u)));
                    tag >>= 7;
                }
                while (tag > 0);
                bytes.AddRange(RandomBytes(random, random.Next(0, 12)));
                break;
        }

        return [.. bytes];
    }

    /// <summary>A frame of the message: mostly well formed; sometimes a wrong length prefix, a compressed flag, two frames, or none.</summary>
    private static (byte[] Body, bool CompressedFlag) FrameOf(Random random, byte[] message) => random.Next(20) switch
    {
        0 => (RawGrpc.Frame(message, length: (uint)random.Next(0, message.Length + 1)), false),
        1 => (RawGrpc.Frame(message, length: (uint)(message.Length + random.Next(1, 1 << 20))), false),
        2 => (RawGrpc.Frame(message, flag: (byte)random.Next(1, 256)), true),
        3 => ([.. RawGrpc.Frame(message), .. RawGrpc.Frame(message)], false),
        4 => ([], false),
        _ => (RawGrpc.Frame(message), false),
    };

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
