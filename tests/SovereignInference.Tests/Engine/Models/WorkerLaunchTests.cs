using SovereignInference.Engine.Models;

namespace SovereignInference.Tests.Engine.Models;

/// <summary>What a worker process's environment gets on top of the server's (the process test is in ModelWorkerTests).</summary>
public sealed class WorkerLaunchTests
{
    [Fact]
    public void A_worker_gets_a_short_openmp_spin_unless_the_server_environment_sets_openmp_waiting()
    {
        var plain = new Dictionary<string, string?> { ["PATH"] = "/usr/bin" };
        WorkerLaunch.ApplyThreadingDefaults(plain);
        Assert.Equal(WorkerLaunch.DefaultGompSpinCount, plain["GOMP_SPINCOUNT"]);
        Assert.Equal("/usr/bin", plain["PATH"]);

        var ownSpin = new Dictionary<string, string?> { ["GOMP_SPINCOUNT"] = "300000" };
        WorkerLaunch.ApplyThreadingDefaults(ownSpin);
        Assert.Equal("300000", ownSpin["GOMP_SPINCOUNT"]);

        var ownPolicy = new Dictionary<string, string?> { ["OMP_WAIT_POLICY"] = "ACTIVE" };
        WorkerLaunch.ApplyThreadingDefaults(ownPolicy);
        Assert.False(ownPolicy.ContainsKey("GOMP_SPINCOUNT"));
    }
}
