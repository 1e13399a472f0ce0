using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Tests.Server.Grpc;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Http;

/// <summary>
/// Each device's budget and use where clients read them: /health/ready, /v1/models (a model's estimate by device),
/// gRPC ListModels and /metrics; the GPU is reported by a <see cref="FakeGpuBackend"/>, the model runs in llama.cpp.
/// </summary>
public sealed class DeviceMemoryEndpointsTests
{
    private const long G = 1L << 30;

    [Fact]
    public async Task Health_models_grpc_and_metrics_show_each_devices_budget_use_and_a_models_share()
    {
        var backend = new FakeGpuBackend(8 * G, new GpuDevice(0, "CUDA0", 16 * G, 24 * G));
        await using var server = await ServerHarness.StartAsync(
            new Dictionary<string, string?> { ["MemoryBudget"] = "ram=2G,gpu0=50%", ["GpuLayers"] = "-1" },
            services: s => s.AddSingleton<IModelBackend>(backend));
        var plan = server.Engine.Manager.Find("scripted")!.Plan!;
        Assert.Equal([new SovereignInference.Engine.Models.DeviceShare("gpu0", plan.TotalBytes, 16 * G)], plan.DeviceShares);

        using (var ready = JsonDocument.Parse(await server.Http.GetStringAsync("health/ready")))
        {
            var memory = ready.RootElement.GetProperty("memory");
            Assert.Equal(2, memory.GetArrayLength());
            Assert.Equal(("ram", "RAM", 2 * G, 0L, 8 * G), Account(memory[0]));
            Assert.Equal(("gpu0", "CUDA0", 8 * G, plan.TotalBytes, 16 * G), Account(memory[1]));
        }

        using (var model = JsonDocument.Parse(await server.Http.GetStringAsync("v1/models/scripted")))
        {
            var byDevice = model.RootElement.GetProperty("memory_estimate_by_device");
            Assert.Equal(plan.TotalBytes, byDevice.GetProperty("gpu0").GetInt64());
            Assert.False(byDevice.TryGetProperty("ram", out _), "a fully offloaded model has no RAM share");
            Assert.Equal(plan.TotalBytes, model.RootElement.GetProperty("memory_estimate_bytes").GetInt64());
        }

        using var channel = GrpcTestClient.Channel(server);
        var listed = await new Inference.InferenceClient(channel).ListModelsAsync(new ListModelsRequest());
        Assert.Equal(
            [("ram", "RAM", 2 * G, 0L, 8 * G), ("gpu0", "CUDA0", 8 * G, plan.TotalBytes, 16 * G)],
            listed.Memory.Select(m => (m.Device, m.Name, m.BudgetBytes, m.InUseBytes, m.FreeAtStartBytes)));
        var share = Assert.Single(Assert.Single(listed.Models).MemoryByDevice);
        Assert.Equal(("gpu0", plan.TotalBytes), (share.Device, share.Bytes));

        var samples = ParsePrometheus(await server.Http.GetStringAsync("metrics"));
        Assert.Equal(2 * G, Sample(samples, "sovereign_memory_budget", ("device", "ram")));
        Assert.Equal(8 * G, Sample(samples, "sovereign_memory_budget", ("device", "gpu0")));
        Assert.Equal(0, Sample(samples, "sovereign_memory_in_use", ("device", "ram")));
        Assert.Equal(plan.TotalBytes, Sample(samples, "sovereign_memory_in_use", ("device", "gpu0")));
        Assert.Equal(plan.TotalBytes, Sample(samples, "sovereign_model_memory", ("model", "scripted"), ("device", "gpu0")));
    }

    private static (string, string, long, long, long) Account(JsonElement e) => (
        e.GetProperty("device").GetString()!,
        e.GetProperty("name").GetString()!,
        e.GetProperty("budget_bytes").GetInt64(),
        e.GetProperty("in_use_bytes").GetInt64(),
        e.GetProperty("free_at_start_bytes").GetInt64());
}
