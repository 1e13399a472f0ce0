using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using SovereignInference.Contracts.V1;
using SovereignInference.Tests.TestSupport;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>Health, reflection, models, tokenization, and the gRPC listener kept apart from the HTTP one.</summary>
public sealed class GrpcDiscoveryTests
{
    [Fact]
    public async Task Health_is_SERVING_for_a_loaded_model_NOT_SERVING_for_a_broken_one_and_for_all_on_drain()
    {
        using var dir = new TempDirectory();
        await File.WriteAllBytesAsync(dir.File("broken.gguf"), "GGUF"u8.ToArray());
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Model:0"] = dir.File("broken.gguf"),
            ["Model:1"] = ScriptedModels.Engine.Path,
            [$"Aliases:{Path.GetFileName(ScriptedModels.Engine.Path)}"] = "scripted",
        });
        using var channel = GrpcTestClient.Channel(server);
        var health = new Health.HealthClient(channel);

        async Task<ServingStatus> Check(string service) => (await health.CheckAsync(new HealthCheckRequest { Service = service })).Status;

        Assert.Equal(ServingStatus.Serving, await Check(""));
        Assert.Equal(ServingStatus.Serving, await Check("sovereign.inference.v1.Inference"));
        Assert.Equal(ServingStatus.Serving, await Check("scripted"));
        Assert.Equal(ServingStatus.NotServing, await Check("broken"));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => Check("nope"));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        using var watch = health.Watch(new HealthCheckRequest { Service = "scripted" });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);

        server.Engine.BeginDrain();

        Assert.Equal(ServingStatus.NotServing, await Check(""));
        Assert.Equal(ServingStatus.NotServing, await Check("scripted"));
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);
    }

    [Fact]
    public async Task Health_of_the_server_is_NOT_SERVING_while_no_model_is_loaded()
    {
        using var dir = new TempDirectory();
        await File.WriteAllBytesAsync(dir.File("broken.gguf"), "GGUF"u8.ToArray());
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Model:0"] = dir.File("broken.gguf") });
        using var channel = GrpcTestClient.Channel(server);
        var health = new Health.HealthClient(channel);

        Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "broken" })).Status);
    }

    [Fact]
    public async Task Reflection_lists_the_inference_health_and_reflection_services_and_serves_their_files()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var reflection = new ServerReflection.ServerReflectionClient(channel);

        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        Assert.True(await call.ResponseStream.MoveNext());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "sovereign.inference.v1.Inference" });
        Assert.True(await call.ResponseStream.MoveNext());
        var files = call.ResponseStream.Current.FileDescriptorResponse;
        await call.RequestStream.CompleteAsync();

        Assert.Contains("sovereign.inference.v1.Inference", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.NotNull(files);
        var file = Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(files.FileDescriptorProto[0]);
        Assert.Equal("sovereign/inference/v1/inference.proto", file.Name);
        Assert.Contains(file.Service.Single().Method, m => m.Name == "Generate" && m.ServerStreaming);
    }

    [Fact]
    public async Task ListModels_and_GetModel_describe_the_configured_models()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);

        var list = await client.ListModelsAsync(new ListModelsRequest());
        var model = Assert.Single(list.Models);
        Assert.Equal("scripted", model.Id);
        Assert.Equal(ModelState.Ready, model.State);
        Assert.Equal(64, model.Sha256.Length);
        Assert.Equal(new FileInfo(ScriptedModels.Engine.Path).Length, model.FileSizeBytes);
        Assert.Equal("llama", model.Architecture);
        Assert.Equal(512, model.SequenceContext);
        Assert.Equal(ScriptedModels.Engine.Vocabulary.Count, model.VocabSize);
        Assert.Equal(model, await client.GetModelAsync(new GetModelRequest { Id = "scripted" }));

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.GetModelAsync(new GetModelRequest { Id = "nope" }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Tokenize_and_Detokenize_round_trip_and_reject_ids_outside_the_vocabulary()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);

        var tokens = await client.TokenizeAsync(new TokenizeRequest { Model = "scripted", Text = "[INST] Hello world!", AddBos = true, WithPieces = true });
        var text = await client.DetokenizeAsync(new DetokenizeRequest { Model = "scripted", TokenIds = { tokens.TokenIds } });
        var literal = await client.TokenizeAsync(new TokenizeRequest { Model = "scripted", Text = "[INST]", AddBos = false, ParseSpecial = false });

        Assert.Equal(1, tokens.TokenIds[0]);
        Assert.Equal(ScriptedModels.Id("[INST]"), tokens.TokenIds[1]);
        Assert.Equal(tokens.TokenIds.Count, tokens.Pieces.Count);
        Assert.Equal("[INST]", tokens.Pieces[1]);
        // The tokenizer puts a word-start space in front of the text after [INST]; the rest comes back as written.
        Assert.Equal("Hello world!", text.Text.TrimStart());
        Assert.DoesNotContain(ScriptedModels.Id("[INST]"), literal.TokenIds);

        var vocab = ScriptedModels.Engine.Vocabulary.Count;
        var bad = await Assert.ThrowsAsync<RpcException>(async () => await client.DetokenizeAsync(new DetokenizeRequest { Model = "scripted", TokenIds = { 1, vocab } }));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("token_ids[1]", bad.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gRPC_listener_serves_only_gRPC_and_the_HTTP_listener_serves_no_gRPC()
    {
        await using var server = await ServerHarness.StartAsync();
        using var h2c = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        var httpOnGrpcPort = await h2c.GetAsync(new Uri(server.GrpcBase!, "/v1/models"));
        var httpOnHttpPort = await server.Http.GetAsync("v1/models");
        using var wrongChannel = global::Grpc.Net.Client.GrpcChannel.ForAddress(server.HttpBase);
        var grpcOnHttpPort = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Inference.InferenceClient(wrongChannel).ListModelsAsync(new ListModelsRequest()));

        Assert.Equal(HttpStatusCode.NotFound, httpOnGrpcPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, httpOnHttpPort.StatusCode);
        Assert.NotEqual(StatusCode.OK, grpcOnHttpPort.StatusCode);
        Assert.NotEqual(server.HttpBase.Port, server.GrpcBase!.Port);
    }

    [Fact]
    public async Task An_unknown_service_or_method_is_UNIMPLEMENTED()
    {
        await using var server = await ServerHarness.StartAsync();
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(server.GrpcBase!);
        var invoker = channel.CreateCallInvoker();
        foreach (var (service, name) in new[] { ("sovereign.inference.v1.Inference", "NoSuchMethod"), ("no.such.Service", "Call") })
        {
            var method = new Method<ListModelsRequest, ListModelsResponse>(MethodType.Unary, service, name, Marshallers.Create(r => r.ToByteArray(), ListModelsRequest.Parser.ParseFrom), Marshallers.Create(r => r.ToByteArray(), ListModelsResponse.Parser.ParseFrom));
            var error = await Assert.ThrowsAsync<RpcException>(async () => await invoker.AsyncUnaryCall(method, null, new CallOptions(), new ListModelsRequest()));
            Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        }
    }
}
