using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Models;

namespace SovereignInference.Tests.Engine.Models;

/// <summary>--memory-budget: one amount for every device or a list by device, resolved against each device's free memory.</summary>
public sealed class MemoryBudgetTests
{
    private const long G = 1L << 30;

    private static readonly GpuDevice[] TwoGpus = [new(0, "CUDA0", 80 * G, 96 * G), new(1, "CUDA1", 40 * G, 48 * G)];

    private static Dictionary<string, long> Budgets(string? setting, long ramFree = 64 * G, GpuDevice[]? gpus = null) =>
        MemoryBudget.Resolve(setting, ramFree, gpus ?? TwoGpus).ToDictionary(d => d.Id, d => d.Budget);

    [Fact]
    public void Without_a_setting_every_device_gets_what_it_has_free_less_ten_percent()
    {
        var devices = MemoryBudget.Resolve(null, 64 * G, TwoGpus);

        Assert.Equal(["ram", "gpu0", "gpu1"], devices.Select(d => d.Id));
        Assert.Equal(["RAM", "CUDA0", "CUDA1"], devices.Select(d => d.Name));
        Assert.Equal([64 * G, 80 * G, 40 * G], devices.Select(d => d.FreeAtStart));
        Assert.Equal([(long)(64 * G * 0.9), (long)(80 * G * 0.9), (long)(40 * G * 0.9)], devices.Select(d => d.Budget));
    }

    [Fact]
    public void A_single_amount_applies_to_every_device_as_before()
    {
        Assert.Equal(new Dictionary<string, long> { ["ram"] = 8 * G, ["gpu0"] = 8 * G, ["gpu1"] = 8 * G }, Budgets("8G"));
        Assert.Equal(new Dictionary<string, long> { ["ram"] = 48 * G, ["gpu0"] = 60 * G, ["gpu1"] = 30 * G }, Budgets("75%"));
        Assert.Equal(1073741824, Budgets("1073741824")["gpu1"]);
        Assert.Equal(512L << 20, Budgets("512MB")["ram"]);
        Assert.Equal(3L << 39, Budgets("1.5T")["ram"]);
        // CPU only: just RAM.
        Assert.Equal(new Dictionary<string, long> { ["ram"] = 2 * G }, Budgets("2g", gpus: []));
    }

    [Fact]
    public void A_list_sets_devices_by_name_and_the_ones_left_out_keep_the_default()
    {
        Assert.Equal(
            new Dictionary<string, long> { ["ram"] = 16 * G, ["gpu0"] = 70 * G, ["gpu1"] = 36 * G },
            Budgets("ram=16G,gpu0=70G,gpu1=90%"));
        Assert.Equal(
            new Dictionary<string, long> { ["ram"] = (long)(64 * G * 0.9), ["gpu0"] = 70 * G, ["gpu1"] = 36 * G },
            Budgets(" gpu0 = 70G , gpu1=90% "));

        // gpu= sets every GPU; a bare amount the devices not named; the most specific wins.
        Assert.Equal(
            new Dictionary<string, long> { ["ram"] = 32 * G, ["gpu0"] = 40 * G, ["gpu1"] = 10 * G },
            Budgets("gpu=50%,ram=32G,gpu1=10G"));
        Assert.Equal(
            new Dictionary<string, long> { ["ram"] = 4 * G, ["gpu0"] = 8 * G, ["gpu1"] = 8 * G },
            Budgets("8G,ram=4G"));
        Assert.Equal(
            new Dictionary<string, long> { ["ram"] = 4 * G, ["gpu0"] = 1 * G, ["gpu1"] = 1 * G },
            Budgets("RAM=4G,GPU=1G"));
    }

    [Theory]
    [InlineData("0", "memory-budget must be bytes")]
    [InlineData("-1G", "memory-budget must be bytes")]
    [InlineData("lots", "memory-budget must be bytes")]
    [InlineData("8Q", "memory-budget must be bytes")]
    [InlineData("150%", "memory-budget percentage must be in (0, 100]")]
    [InlineData("0%", "memory-budget percentage must be in (0, 100]")]
    [InlineData("ram=16G,,gpu0=1G", "memory-budget has an empty entry")]
    [InlineData("ram=16G,", "memory-budget has an empty entry")]
    [InlineData("vram=16G", "memory-budget device must be ram, gpu (every GPU) or gpuN such as gpu0 (got 'vram'")]
    [InlineData("gpu-1=16G", "memory-budget device must be ram, gpu (every GPU) or gpuN such as gpu0 (got 'gpu-1'")]
    [InlineData("=16G", "memory-budget device must be ram, gpu (every GPU) or gpuN such as gpu0 (got ''")]
    [InlineData("ram=", "memory-budget for ram has no amount")]
    [InlineData("gpu0=fast", "memory-budget for gpu0 must be bytes")]
    [InlineData("gpu1=101%", "memory-budget for gpu1 percentage must be in (0, 100]")]
    [InlineData("ram=1G,ram=2G", "memory-budget names ram twice")]
    [InlineData("gpu0=1G,gpu00=2G", "memory-budget names gpu00 twice")]
    [InlineData("gpu=1G,gpu=2G", "memory-budget names gpu twice")]
    [InlineData("8G,80%", "memory-budget has more than one amount without a device")]
    public void Bad_settings_are_refused_naming_the_entry_and_the_fix(string setting, string expected)
    {
        var error = Assert.Throws<SettingException>(() => MemoryBudget.Parse(setting));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);

        // The same message reaches `sovereign serve` through the options' validation.
        Assert.Contains(new EngineOptions { MemoryBudget = setting }.Validate(), p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_gpu_the_machine_does_not_have_is_refused_at_start_naming_the_gpus_there_are()
    {
        Assert.Empty(new EngineOptions { MemoryBudget = "gpu2=10G" }.Validate());

        var error = Assert.Throws<SettingException>(() => MemoryBudget.Resolve("ram=8G,gpu2=10G", 64 * G, TwoGpus));
        Assert.Equal("memory-budget names gpu2, but the GPUs llama.cpp uses are: gpu0 (CUDA0), gpu1 (CUDA1) (got 'ram=8G,gpu2=10G')", error.Message);

        var cpuOnly = Assert.Throws<SettingException>(() => MemoryBudget.Resolve("gpu0=10G", 64 * G, []));
        Assert.Contains("names gpu0, but the GPUs llama.cpp uses are: none (CPU only)", cpuOnly.Message, StringComparison.Ordinal);

        // gpu= with no GPU is not an error: it sets every GPU there is.
        Assert.Equal(new Dictionary<string, long> { ["ram"] = 8 * G }, Budgets("ram=8G,gpu=50%", gpus: []));
    }

    [Fact]
    public void Without_gpus_or_without_offload_the_whole_estimate_is_ram()
    {
        Assert.Equal([new DeviceShare("ram", 1000, 64 * G)], MemorySplit.Split(1000, MemorySplit.GpuFraction(-1, 32), 64 * G, []));
        Assert.Equal([new DeviceShare("ram", 1000, 64 * G)], MemorySplit.Split(1000, MemorySplit.GpuFraction(0, 32), 64 * G, TwoGpus));
    }

    [Fact]
    public void Offloaded_layers_go_to_the_gpus_in_proportion_to_their_free_memory()
    {
        // All layers (-1, or more than the model has) on two GPUs with 80 and 40 GiB free: 2/3 and 1/3, nothing in RAM.
        Assert.Equal(1.0, MemorySplit.GpuFraction(-1, 32));
        Assert.Equal(1.0, MemorySplit.GpuFraction(999, 32));
        Assert.Equal(
            [new DeviceShare("gpu0", 6000, 80 * G), new DeviceShare("gpu1", 3000, 40 * G)],
            MemorySplit.Split(9000, 1.0, 64 * G, TwoGpus));

        // 8 of 32 layers: a quarter on the GPUs, the rest in RAM; the shares add up to the estimate.
        Assert.Equal(0.25, MemorySplit.GpuFraction(8, 32));
        var quarter = MemorySplit.Split(9001, 0.25, 64 * G, TwoGpus);
        Assert.Equal(["ram", "gpu0", "gpu1"], quarter.Select(d => d.Device));
        Assert.Equal(9001 - 2250, quarter[0].Bytes);
        Assert.Equal(1500, quarter[1].Bytes);
        Assert.Equal(750, quarter[2].Bytes);
        Assert.Equal(9001, quarter.Sum(d => d.Bytes));

        // One GPU: all of the offloaded part on it.
        Assert.Equal(
            [new DeviceShare("ram", 500, 64 * G), new DeviceShare("gpu0", 500, 80 * G)],
            MemorySplit.Split(1000, MemorySplit.GpuFraction(16, 32), 64 * G, [TwoGpus[0]]));
    }

    [Fact]
    public void A_plan_fits_only_when_every_device_share_fits_and_says_where_it_goes()
    {
        var unsplit = new MemoryPlan(1000, 100, 2, 256, "f16", 0);
        var plan = unsplit with { Devices = MemorySplit.Split(unsplit.TotalBytes, 0.5, 64 * G, [new GpuDevice(0, "CUDA0", 600, 1000)]) };

        Assert.Equal(1320, plan.TotalBytes);
        Assert.Equal(660, plan.BytesOn("ram"));
        Assert.Equal(660, plan.BytesOn("gpu0"));
        Assert.Equal(0, plan.BytesOn("gpu1"));
        Assert.False(plan.Fits, "660 bytes do not fit in the 600 free on gpu0");
        Assert.EndsWith("headroom 1.3 KiB (ram 0.6 KiB of 64.00 GiB available, gpu0 0.6 KiB of 0.6 KiB available)", plan.ToString(), StringComparison.Ordinal);

        var cpu = new MemoryPlan(1000, 100, 2, 256, "f16", 2000);
        Assert.True(cpu.Fits);
        Assert.Equal([new DeviceShare("ram", 1320, 2000)], cpu.DeviceShares);
        Assert.EndsWith("headroom 1.3 KiB of 2.0 KiB available", cpu.ToString(), StringComparison.Ordinal);
    }
}
