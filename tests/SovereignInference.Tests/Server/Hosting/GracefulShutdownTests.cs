using System.Net;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Requests;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Hosting;

/// <summary>SIGTERM (the host's StopAsync): readiness 503 at once, new work refused, streams in flight finish.</summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task Stopping_with_eight_active_streams_refuses_new_work_and_lets_all_eight_finish()
    {
        await using var server = await ServerHarness.StartAsync(
            TwoKeys(("Parallel", "8"), ("DrainTimeoutSeconds", "120")),
            apiKey: AliceKey);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new CountdownEvent(8);
        var streams = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var updates = new List<GenerationUpdate>();
            await foreach (var update in server.Engine.GenerateAsync(Loop("alice", maxTokens: 24, promptLength: 6 + i)))
            {
                updates.Add(update);
                if (updates.Count == 1)
                {
                    started.Signal();
                    await gate.Task; // the client is still reading when the shutdown begins
                }
            }

            return updates;
        })).ToList();
        Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "8 streams started");

        var stopping = server.StopAsync();
        await EngineHarness.WaitUntilAsync(() => server.Engine.IsDraining, TimeSpan.FromSeconds(30), "draining");

        Assert.False(stopping.IsCompleted, "shutdown waits for the streams in flight");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.Http.GetAsync("health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health/live")).StatusCode);
        using var refused = await server.Http.GetAsync("v1/models");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("shutting_down", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var engineRefusal = await Assert.ThrowsAsync<EngineException>(() => RunAsync(server.Engine.GenerateAsync(Hello("bob"))));
        Assert.Equal(EngineErrorCode.ShuttingDown, engineRefusal.Code);

        gate.SetResult();
        var results = await Task.WhenAll(streams);
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results, updates =>
        {
            var final = updates[^1];
            Assert.Equal(FinishReason.Length, final.Finish);
            Assert.Equal(24, final.Usage!.CompletionTokens);
            Assert.Equal(24, updates.Sum(u => u.Tokens.Count));
        });
        Assert.Equal(0, server.Engine.InFlight);
    }
}
