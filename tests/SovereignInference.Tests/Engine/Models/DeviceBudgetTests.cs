using System.Globalization;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Models;

/// <summary>
/// One memory budget per device on real models (llama.cpp on the CPU) with the GPUs a <see cref="FakeGpuBackend"/>
/// reports: the plan split by gpu-layers, eviction on the device that lacks room, and the refusal naming that device.
/// </summary>
public sealed class DeviceBudgetTests : IDisposable
{
    private const long G = 1L << 30;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Copies of one generated model, each with its own gpu-layers (and pinned when asked).</summary>
    private EngineOptions Models(string? budget, params (string Id, int GpuLayers, bool Pinned)[] models) => Models(ScriptedModels.Engine.Path, budget, models);

    private EngineOptions Models(string source, string? budget, params (string Id, int GpuLayers, bool Pinned)[] models)
    {
        var options = new EngineOptions { ModelsDir = _dir.Path, LoadOnDemand = true, Parallel = 1, CtxSize = 256, KeepAlive = "-1", MemoryBudget = budget };
        foreach (var (id, gpuLayers, pinned) in models)
        {
            File.Copy(source, _dir.File(id + ".gguf"), overwrite: true);
            options.Models[id] = new ModelSettings { GpuLayers = gpuLayers, Pinned = pinned ? true : null };
        }

        return options;
    }

    private static FakeGpuBackend OneGpu() => new(64 * G, new GpuDevice(0, "CUDA0", 64 * G, 80 * G));

    /// <summary>The estimate of one copy (all copies share the file and the settings that size it).</summary>
    private async Task<long> PlanBytesAsync()
    {
        await using var probe = await EngineHarness.StartAsync(Models(null, ("probe", 0, false)), OneGpu());
        var bytes = probe.Engine.Manager.Find("probe")!.Plan!.TotalBytes;
        File.Delete(_dir.File("probe.gguf"));
        return bytes;
    }

    private static string Bytes(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static Task RunAsync(EngineHarness harness, string model) =>
        harness.RunAsync(EngineHarness.Greedy(model, ScriptedModels.Prompt("[/INST]"), 3));

    [Fact]
    public async Task The_plan_puts_each_models_share_on_ram_and_on_each_gpu_by_its_gpu_layers()
    {
        // The tiny random model has 2 layers: "half" offloads 1.
        var tiny = TestModels.Tiny().Path;
        var layers = (int)GgufModelInfo.From(GgufReader.ReadModel(tiny), tiny, computeSha256: false).BlockCount!.Value;
        Assert.Equal(2, layers);
        var options = Models(tiny, "ram=4G,gpu1=50%", ("cpu", 0, false), ("all", -1, false), ("half", layers / 2, false));
        var backend = new FakeGpuBackend(32 * G, new GpuDevice(0, "CUDA0", 30 * G, 40 * G), new GpuDevice(1, "CUDA1", 10 * G, 40 * G));

        await using var harness = await EngineHarness.StartAsync(options, backend);
        var manager = harness.Engine.Manager;

        Assert.Equal(
            [new MemoryDevice("ram", "RAM", 32 * G, 4 * G), new MemoryDevice("gpu0", "CUDA0", 30 * G, (long)(30 * G * 0.9)), new MemoryDevice("gpu1", "CUDA1", 10 * G, 5 * G)],
            manager.MemoryDevices);
        var cpu = manager.Find("cpu")!.Plan!;
        Assert.Equal([new DeviceShare("ram", cpu.TotalBytes, 32 * G)], cpu.DeviceShares);

        // All layers: nothing in RAM, the GPUs 3:1 as their free memory (30 and 10 GiB).
        var all = manager.Find("all")!.Plan!;
        Assert.Equal(["gpu0", "gpu1"], all.DeviceShares.Select(d => d.Device));
        Assert.Equal(all.TotalBytes, all.DeviceShares.Sum(d => d.Bytes));
        Assert.InRange(all.BytesOn("gpu0") - (3 * all.BytesOn("gpu1")), -4, 4);

        // Half the layers: half the estimate in RAM, the other half on the GPUs, again 3:1.
        var half = manager.Find("half")!.Plan!;
        var fraction = (layers / 2) / (double)layers;
        Assert.Equal(half.TotalBytes, half.DeviceShares.Sum(d => d.Bytes));
        Assert.InRange(half.BytesOn("ram"), (long)(half.TotalBytes * (1 - fraction)) - 2, (long)(half.TotalBytes * (1 - fraction)) + 2);
        Assert.InRange(half.BytesOn("gpu0") - (3 * half.BytesOn("gpu1")), -4, 4);
        Assert.Contains("gpu0 ", half.ToString(), StringComparison.Ordinal);

        // Loading reserves each share on its own device.
        await harness.RunAsync(EngineHarness.Greedy("half", [1, 300, 301], 3));
        Assert.Equal(half.BytesOn("ram"), manager.InUseOn("ram"));
        Assert.Equal(half.BytesOn("gpu0"), manager.InUseOn("gpu0"));
        Assert.Equal(half.BytesOn("gpu1"), manager.InUseOn("gpu1"));
    }

    [Fact]
    public async Task Eviction_frees_the_device_that_lacks_room_not_the_least_recently_used_model_on_another_device()
    {
        var plan = await PlanBytesAsync();
        var budget = $"ram={Bytes(plan * 3 / 2)},gpu0={Bytes(plan * 3 / 2)}";
        await using var harness = await EngineHarness.StartAsync(Models(budget, ("gpu", -1, false), ("ram1", 0, false), ("ram2", 0, false)), OneGpu());
        var manager = harness.Engine.Manager;

        // gpu is the least recently used model of all, but it holds gpu0; ram2 needs RAM, so ram1 goes.
        await RunAsync(harness, "gpu");
        await RunAsync(harness, "ram1");
        Assert.Equal((plan, plan), (manager.InUseOn("ram"), manager.InUseOn("gpu0")));
        await RunAsync(harness, "ram2");

        Assert.Equal(ModelState.Ready, manager.Find("gpu")!.State);
        Assert.Equal(ModelState.Pending, manager.Find("ram1")!.State);
        Assert.Equal(ModelState.Ready, manager.Find("ram2")!.State);
        Assert.Equal((0, 1, 0), (manager.Find("gpu")!.Counters.Evictions, manager.Find("ram1")!.Counters.Evictions, manager.Find("ram2")!.Counters.Evictions));
        Assert.Equal((plan, plan), (manager.InUseOn("ram"), manager.InUseOn("gpu0")));
    }

    [Fact]
    public async Task A_load_that_cannot_fit_is_refused_naming_the_device_what_it_needs_and_what_is_available()
    {
        var plan = await PlanBytesAsync();
        var gpuBudget = plan * 3 / 2;
        await using var harness = await EngineHarness.StartAsync(Models($"gpu0={Bytes(gpuBudget)}", ("pinned", -1, true), ("second", -1, false), ("cpu", 0, false)), OneGpu());
        var manager = harness.Engine.Manager;
        Assert.Equal(ModelState.Ready, manager.Find("pinned")!.State);
        await RunAsync(harness, "cpu");

        var refused = await Assert.ThrowsAsync<EngineException>(() => RunAsync(harness, "second"));

        Assert.Equal(EngineErrorCode.ModelNotReady, refused.Code);
        Assert.Equal(
            $"The model 'second' needs {MemoryPlan.Format(plan)} on gpu0 but only {MemoryPlan.Format(gpuBudget - plan)} of the memory budget {MemoryPlan.Format(gpuBudget)} on gpu0 is available (in use on gpu0: pinned {MemoryPlan.Format(plan)} pinned; none can be evicted)",
            refused.Message);

        // The idle model in RAM was no help and stays; nothing was evicted; the refused model is unloaded, not failed.
        Assert.Equal(ModelState.Ready, manager.Find("cpu")!.State);
        Assert.Equal(0, manager.Find("cpu")!.Counters.Evictions);
        Assert.Equal(ModelState.Pending, manager.Find("second")!.State);
        Assert.Equal((plan, plan), (manager.InUseOn("ram"), manager.InUseOn("gpu0")));
    }

    [Fact]
    public async Task A_model_larger_than_its_devices_budget_fails_for_good_naming_that_budget()
    {
        var plan = await PlanBytesAsync();
        await using var harness = await EngineHarness.StartAsync(Models($"ram=64G,gpu0={Bytes(plan / 2)}", ("big", -1, false)), OneGpu());

        var refused = await Assert.ThrowsAsync<EngineException>(() => RunAsync(harness, "big"));

        Assert.Contains("the memory plan does not fit", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"the memory budget on gpu0 is {MemoryPlan.Format(plan / 2)}", refused.Message, StringComparison.Ordinal);
        Assert.Equal(ModelState.Failed, harness.Engine.Manager.Find("big")!.State);
    }
}
