using System.Globalization;
using System.Text.RegularExpressions;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Models;

/// <summary>
/// The memory loaded models may occupy, one account per device: RAM ("ram") and each GPU ("gpu0", "gpu1", …).
/// <c>--memory-budget</c> is one amount for every device (<c>8G</c>, <c>80%</c>) or a list by device
/// (<c>ram=16G,gpu0=70G,gpu1=90%</c>; <c>gpu=</c> sets every GPU; a bare amount in the list sets the devices not named).
/// An amount is bytes (with an optional K/M/G/T suffix, powers of 1024) or a percentage of what the device has free at
/// start. A device without an amount gets the default: what it has free at start less a 10% margin.
/// </summary>
public static partial class MemoryBudget
{
    /// <summary>Share of the free memory kept back when no budget is configured.</summary>
    public const double DefaultMargin = 0.10;

    /// <summary>The device name of system memory.</summary>
    public const string Ram = "ram";

    /// <summary>The device name of the GPU with index <paramref name="index"/> (gpu0, gpu1, …).</summary>
    public static string Gpu(int index) => "gpu" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses a setting without knowing the devices (syntax only); throws <see cref="SettingException"/> naming what is
    /// wrong. A setting naming a GPU the machine does not have is refused later, by <see cref="Resolve(string?, long, IReadOnlyList{GpuDevice})"/>.
    /// </summary>
    public static MemoryBudgetSetting Parse(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return MemoryBudgetSetting.Default;
        }

        if (!setting.Contains('=', StringComparison.Ordinal) && !setting.Contains(',', StringComparison.Ordinal))
        {
            return new MemoryBudgetSetting(ParseAmount(setting.Trim(), setting, device: null), null, new Dictionary<string, BudgetAmount>(StringComparer.Ordinal));
        }

        BudgetAmount? all = null;
        BudgetAmount? gpus = null;
        var devices = new Dictionary<string, BudgetAmount>(StringComparer.Ordinal);
        foreach (var raw in setting.Split(','))
        {
            var item = raw.Trim();
            if (item.Length == 0)
            {
                throw new SettingException($"memory-budget has an empty entry (got '{setting}'); use e.g. ram=16G,gpu0=70G,gpu1=90%");
            }

            var equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                if (all is not null)
                {
                    throw new SettingException($"memory-budget has more than one amount without a device (got '{setting}'); name the device: ram=16G,gpu0=70G");
                }

                all = ParseAmount(item, setting, device: null);
                continue;
            }

            var device = item[..equals].Trim().ToLowerInvariant();
            if (device != Ram && device != "gpu" && !GpuName().IsMatch(device))
            {
                throw new SettingException($"memory-budget device must be ram, gpu (every GPU) or gpuN such as gpu0 (got '{item[..equals].Trim()}' in '{setting}')");
            }

            var amount = ParseAmount(item[(equals + 1)..].Trim(), setting, device);
            if (device == "gpu")
            {
                if (gpus is not null)
                {
                    throw new SettingException($"memory-budget names gpu twice (got '{setting}')");
                }

                gpus = amount;
            }
            else if (!devices.TryAdd(NormalizeGpu(device), amount))
            {
                throw new SettingException($"memory-budget names {device} twice (got '{setting}')");
            }
        }

        return new MemoryBudgetSetting(all, gpus, devices);
    }

    /// <summary>
    /// The budget of every device: RAM, then each of <paramref name="gpus"/>, each from the setting or the default
    /// (free at start less <see cref="DefaultMargin"/>). Throws <see cref="SettingException"/> for a bad setting or
    /// one that names a GPU the backend does not report.
    /// </summary>
    public static IReadOnlyList<MemoryDevice> Resolve(string? setting, long ramFree, IReadOnlyList<GpuDevice> gpus)
    {
        ArgumentNullException.ThrowIfNull(gpus);
        var parsed = Parse(setting);
        foreach (var named in parsed.Devices.Keys.Where(d => d != Ram))
        {
            if (!gpus.Any(g => Gpu(g.Index) == named))
            {
                var present = gpus.Count == 0 ? "none (CPU only)" : string.Join(", ", gpus.Select(g => $"{Gpu(g.Index)} ({g.Name})"));
                throw new SettingException($"memory-budget names {named}, but the GPUs llama.cpp uses are: {present} (got '{setting}')");
            }
        }

        var result = new List<MemoryDevice> { new(Ram, "RAM", ramFree, Amount(parsed.Devices.GetValueOrDefault(Ram) ?? parsed.All, ramFree)) };
        foreach (var gpu in gpus)
        {
            var id = Gpu(gpu.Index);
            result.Add(new MemoryDevice(id, gpu.Name, gpu.FreeBytes, Amount(parsed.Devices.GetValueOrDefault(id) ?? parsed.Gpus ?? parsed.All, gpu.FreeBytes)));
        }

        return result;
    }

    /// <summary>One amount (bytes or a percentage) against one device's free memory; empty: the default.</summary>
    public static long Resolve(string? setting, long freeAtStart) =>
        Amount(string.IsNullOrWhiteSpace(setting) ? null : ParseAmount(setting.Trim(), setting, device: null), freeAtStart);

    private static long Amount(BudgetAmount? amount, long freeAtStart) => amount switch
    {
        null => (long)(freeAtStart * (1 - DefaultMargin)),
        { Percent: { } percent } => (long)(freeAtStart * percent / 100),
        { Bytes: var bytes } => bytes,
    };

    /// <summary>gpu00 and gpu0 are one device.</summary>
    private static string NormalizeGpu(string device) =>
        device == Ram ? device : Gpu(int.Parse(device.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture));

    private static BudgetAmount ParseAmount(string text, string setting, string? device)
    {
        var what = device is null ? "memory-budget" : $"memory-budget for {device}";
        if (text.Length == 0)
        {
            throw new SettingException($"{what} has no amount (got '{setting}'); give bytes (16G) or a percentage (90%)");
        }

        if (text.EndsWith('%'))
        {
            if (!double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) || percent is <= 0 or > 100 || double.IsNaN(percent))
            {
                throw new SettingException($"{what} percentage must be in (0, 100] (got '{setting}')");
            }

            return new BudgetAmount(0, percent);
        }

        var multiplier = 1L;
        var last = char.ToUpperInvariant(text[^1]);
        if (last == 'B')
        {
            text = text[..^1];
            last = text.Length > 0 ? char.ToUpperInvariant(text[^1]) : ' ';
        }

        var index = "KMGT".IndexOf(last, StringComparison.Ordinal);
        if (index >= 0)
        {
            multiplier = 1L << (10 * (index + 1));
            text = text[..^1];
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0 || amount * multiplier >= long.MaxValue || double.IsNaN(amount))
        {
            throw new SettingException($"{what} must be bytes (e.g. 8G, 512M, 1073741824) or a percentage (e.g. 80%) (got '{setting}')");
        }

        return new BudgetAmount((long)(amount * multiplier), null);
    }

    [GeneratedRegex("^gpu[0-9]{1,3}$", RegexOptions.CultureInvariant)]
    private static partial Regex GpuName();
}

/// <summary>A parsed budget amount: bytes, or a percentage of the device's free memory at start.</summary>
public sealed record BudgetAmount(long Bytes, double? Percent);

/// <summary>
/// A parsed <c>--memory-budget</c>: the amount for every device (<see cref="All"/>), for every GPU
/// (<see cref="Gpus"/>), and by device name ("ram", "gpu0", …); the most specific wins.
/// </summary>
public sealed record MemoryBudgetSetting(BudgetAmount? All, BudgetAmount? Gpus, IReadOnlyDictionary<string, BudgetAmount> Devices)
{
    public static MemoryBudgetSetting Default { get; } = new(null, null, new Dictionary<string, BudgetAmount>(StringComparer.Ordinal));
}

/// <summary>One memory account: "ram" or "gpuN", the backend's name for it, what was free at start, and its budget.</summary>
public sealed record MemoryDevice(string Id, string Name, long FreeAtStart, long Budget);
