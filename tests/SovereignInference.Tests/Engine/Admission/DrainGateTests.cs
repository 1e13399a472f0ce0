using Microsoft.Extensions.Logging.Abstractions;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Tests.Engine.Admission;

/// <summary>The drain gate: no new work once draining; a drain waits for the calls in flight, then cuts the rest.</summary>
public sealed class DrainGateTests
{
    [Fact]
    public void The_gate_admits_until_a_drain_begins_then_refuses_with_shutting_down()
    {
        using var gate = new DrainGate(NullLogger.Instance);
        gate.ThrowIfDraining();

        gate.BeginDrain();

        Assert.True(gate.IsDraining);
        var refused = Assert.Throws<EngineException>(gate.ThrowIfDraining);
        Assert.Equal(EngineErrorCode.ShuttingDown, refused.Code);
    }

    [Fact]
    public async Task A_drain_with_nothing_in_flight_succeeds_and_cuts_nothing()
    {
        using var gate = new DrainGate(NullLogger.Instance);

        Assert.True(await gate.DrainAsync(TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.True(gate.IsDraining);
        Assert.False(gate.Shutdown.IsCancellationRequested);
    }

    [Fact]
    public async Task A_call_that_ends_within_the_timeout_lets_the_drain_succeed()
    {
        using var gate = new DrainGate(NullLogger.Instance);
        gate.Enter();
        var ending = Task.Run(async () =>
        {
            await Task.Delay(100);
            gate.Exit();
        });

        Assert.True(await gate.DrainAsync(TimeSpan.FromSeconds(60), CancellationToken.None));
        await ending;
        Assert.Equal(0, gate.InFlight);
        Assert.False(gate.Shutdown.IsCancellationRequested);
    }

    [Fact]
    public async Task A_call_that_outlives_the_timeout_is_cut_through_the_shutdown_token()
    {
        using var gate = new DrainGate(NullLogger.Instance);
        gate.Enter();
        using var cut = gate.Shutdown.Register(gate.Exit);

        Assert.False(await gate.DrainAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));
        Assert.True(gate.Shutdown.IsCancellationRequested);
        Assert.Equal(0, gate.InFlight);
    }
}
