namespace SovereignInference.Engine.Models;

/// <summary>How to start a worker process: the executable and the arguments before <c>worker --socket PATH</c>.</summary>
/// <param name="FileName">The sovereign apphost, or dotnet.</param>
/// <param name="Arguments">Empty for the apphost; the server's dll for dotnet.</param>
public sealed record WorkerLaunch(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>
    /// The running executable when it is the app itself (<paramref name="appName"/>, e.g. the sovereign apphost);
    /// otherwise (tests run inside testhost, `dotnet sovereign.dll`) <c>dotnet APP.dll</c> from the app's folder.
    /// </summary>
    public static WorkerLaunch ForCurrentProcess(string appName)
    {
        var process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == appName)
        {
            return new WorkerLaunch(process, []);
        }

        var dll = Path.Combine(AppContext.BaseDirectory, appName + ".dll");
        var dotnet = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process : "dotnet";
        return new WorkerLaunch(dotnet, [dll]);
    }

    /// <summary>
    /// How long libgomp's threads spin at a barrier before they sleep, for the worker's llama.cpp when the server's
    /// environment says nothing about it (no <c>GOMP_SPINCOUNT</c>, no <c>OMP_WAIT_POLICY</c>).
    /// </summary>
    /// <remarks>
    /// llama.cpp's CPU backend meets at an OpenMP barrier for every graph node. With libgomp's default (300,000 spins)
    /// a decode thread whose partner was preempted by an HTTP thread keeps its core spinning, so the preempting thread
    /// has to take the partner's core too, and steps stretch by a third on a busy CPU. With 10,000 spins the waiter
    /// yields its core soon: on 2 cores at 8 streams, interleaved A/B over 5 rounds, 1.07x tok/s (median) and steady
    /// steps (305–329 tok/s against 256–342 with the default); docs/performance.md.
    /// </remarks>
    public const string DefaultGompSpinCount = "10000";

    /// <summary>
    /// Adds to a worker's environment what its llama.cpp should run with, where the server's says nothing of its own:
    /// <see cref="DefaultGompSpinCount"/> (unless OpenMP waiting is set) and <see cref="HugePageTunable"/>.
    /// </summary>
    public static void ApplyNativeDefaults(IDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!environment.ContainsKey("GOMP_SPINCOUNT") && !environment.ContainsKey("OMP_WAIT_POLICY"))
        {
            environment["GOMP_SPINCOUNT"] = DefaultGompSpinCount;
        }

        // Huge pages for the weights (read into memory unless --mmap): glibc then advises the kernel to back its large
        // allocations, llama.cpp's weight buffer among them, with transparent huge pages. A GLIBC_TUNABLES that already
        // says how to use huge pages is left alone; other tunables in it are kept.
        environment.TryGetValue("GLIBC_TUNABLES", out var tunables);
        if (tunables is null || !tunables.Contains("glibc.malloc.hugetlb=", StringComparison.Ordinal))
        {
            environment["GLIBC_TUNABLES"] = string.IsNullOrEmpty(tunables) ? HugePageTunable : $"{tunables}:{HugePageTunable}";
        }
    }

    /// <summary>
    /// glibc's tunable (2.35 and later) that makes malloc advise transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>)
    /// for the memory it maps, so the weights get 2 MiB pages where the kernel's THP mode is <c>madvise</c> (the usual
    /// default) as well as <c>always</c>. The decode reads every weight once per step; with 4 KiB pages those reads miss
    /// the TLB far more often. On 2 cores: llama-bench tg128 1.1-1.2x, 8 sequences 1.08x (docs/performance.md).
    /// </summary>
    public const string HugePageTunable = "glibc.malloc.hugetlb=1";
}
