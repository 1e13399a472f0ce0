using SovereignInference.Engine.Models;

namespace SovereignInference.Tests.Engine.Models;

/// <summary>What a worker process's environment gets on top of the server's (the process test is in ModelWorkerTests).</summary>
public sealed class WorkerLaunchTests
{
    [Fact]
    public void A_worker_gets_a_short_openmp_spin_unless_the_server_environment_sets_openmp_waiting()
    {
        var plain = new Dictionary<string, string?> { ["PATH"] = "/usr/bin" };
        WorkerLaunch.ApplyNativeDefaults(plain);
        Assert.Equal(WorkerLaunch.DefaultGompSpinCount, plain["GOMP_SPINCOUNT"]);
        Assert.Equal("/usr/bin", plain["PATH"]);

        var ownSpin = new Dictionary<string, string?> { ["GOMP_SPINCOUNT"] = "300000" };
        WorkerLaunch.ApplyNativeDefaults(ownSpin);
        Assert.Equal("300000", ownSpin["GOMP_SPINCOUNT"]);

        var ownPolicy = new Dictionary<string, string?> { ["OMP_WAIT_POLICY"] = "ACTIVE" };
        WorkerLaunch.ApplyNativeDefaults(ownPolicy);
        Assert.False(ownPolicy.ContainsKey("GOMP_SPINCOUNT"));
    }

    [Fact]
    public void A_worker_asks_glibc_for_huge_pages_and_keeps_the_tunables_the_server_environment_sets()
    {
        var plain = new Dictionary<string, string?>();
        WorkerLaunch.ApplyNativeDefaults(plain);
        Assert.Equal("glibc.malloc.hugetlb=1", plain["GLIBC_TUNABLES"]);

        var other = new Dictionary<string, string?> { ["GLIBC_TUNABLES"] = "glibc.malloc.arena_max=2" };
        WorkerLaunch.ApplyNativeDefaults(other);
        Assert.Equal("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", other["GLIBC_TUNABLES"]);

        var own = new Dictionary<string, string?> { ["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=0" };
        WorkerLaunch.ApplyNativeDefaults(own);
        Assert.Equal("glibc.malloc.hugetlb=0", own["GLIBC_TUNABLES"]);
    }
}
