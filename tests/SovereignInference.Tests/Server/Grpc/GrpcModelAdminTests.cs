using Grpc.Core;
using SovereignInference.Contracts.V1;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Grpc;

/// <summary>gRPC LoadModel, UnloadModel and WatchModels on worker processes; admin keys when keys are configured.</summary>
public sealed class GrpcModelAdminTests
{
    private static Metadata Bearer(string key) => new() { { "authorization", $"Bearer {key}" } };

    [Fact]
    public async Task WatchModels_streams_loading_loaded_and_unloaded_as_LoadModel_and_UnloadModel_change_them()
    {
        var settings = ServerHarness.ModelSettings(("scripted", ScriptedModels.Engine.Path));
        settings["Isolation"] = "process";
        settings["LoadOnDemand"] = "true";
        settings["Threads"] = "1";
        settings["ApiKeys:0:Name"] = "user";
        settings["ApiKeys:0:Key"] = "sk-user-0123456789";
        settings["ApiKeys:1:Name"] = "root";
        settings["ApiKeys:1:Key"] = "sk-root-0123456789";
        settings["ApiKeys:1:Admin"] = "true";
        await using var server = await ServerHarness.StartAsync(settings);
        using var channel = GrpcTestClient.Channel(server);
        var client = new Inference.InferenceClient(channel);

        var listed = await client.ListModelsAsync(new ListModelsRequest(), Bearer("sk-user-0123456789"));
        Assert.Equal("unloaded", Assert.Single(listed.Models).Status);
        Assert.True(listed.Models[0].MemoryEstimateBytes > 0);

        var denied = await Assert.ThrowsAsync<RpcException>(() => client.LoadModelAsync(new LoadModelRequest { Model = "scripted" }, Bearer("sk-user-0123456789")).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watch = client.WatchModels(new WatchModelsRequest(), Bearer("sk-root-0123456789"), cancellationToken: cancel.Token);
        Assert.True(await watch.ResponseStream.MoveNext(cancel.Token));
        Assert.Equal("unloaded", watch.ResponseStream.Current.Model.Status);

        var loaded = await client.LoadModelAsync(new LoadModelRequest { Model = "scripted" }, Bearer("sk-root-0123456789"));
        Assert.Equal("loaded", loaded.Status);
        Assert.True(loaded.Pid > 0);
        var unloaded = await client.UnloadModelAsync(new UnloadModelRequest { Model = "scripted" }, Bearer("sk-root-0123456789"));
        Assert.Equal("unloaded", unloaded.Status);

        var seen = new List<string>();
        while (seen.Count < 3 && await watch.ResponseStream.MoveNext(cancel.Token))
        {
            seen.Add(watch.ResponseStream.Current.Model.Status);
        }

        Assert.Equal(["loading", "loaded", "unloaded"], seen);
    }
}
