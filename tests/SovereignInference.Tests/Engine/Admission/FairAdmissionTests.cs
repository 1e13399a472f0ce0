using SovereignInference.Engine.Admission;

using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Admission;

/// <summary>
/// Who gets a free slot next: the scheduler admits from <see cref="FairAdmissionQueue{T}"/>, which interleaves users
/// by weighted round robin. One slot, so the order the prompts reach the runner is the admission order.
/// </summary>
public sealed class FairAdmissionTests
{
    /// <summary>Queues one single-token request per (user, prompt token) while the scheduler is held, then returns the order the prompts were decoded in.</summary>
    private static async Task<int[]> AdmissionOrderAsync(Func<string, int>? weight, params (string User, int Prompt)[] requests)
    {
        using var s = new ScriptedScheduler(new ScriptedModelRunner(maxSequences: 1), ScriptedScheduler.FixedChunks(8, weight));
        var queued = requests.Select(r => s.Request([r.Prompt], maxNewTokens: 1, user: r.User)).ToList();
        using (await s.HoldAsync())
        {
            foreach (var request in queued)
            {
                s.Scheduler.Enqueue(request);
            }
        }

        foreach (var request in queued)
        {
            var (tokens, _) = await ScriptedScheduler.ReadAsync(request);
            Assert.Equal([request.PromptTokens[0] + 1], tokens);
        }

        Assert.Empty(s.Runner.Violations);
        return s.Runner.Batches.Select(b => Assert.Single(b).Token).ToArray();
    }

    [Fact]
    public async Task A_burst_from_one_user_does_not_wait_ahead_of_other_users()
    {
        var order = await AdmissionOrderAsync(null, ("alice", 1), ("alice", 2), ("alice", 3), ("bob", 4), ("carol", 5));

        Assert.Equal([1, 4, 5, 2, 3], order);
    }

    [Fact]
    public async Task A_user_with_weight_two_is_admitted_twice_per_round()
    {
        var order = await AdmissionOrderAsync(user => user == "alice" ? 2 : 1, ("alice", 1), ("alice", 2), ("alice", 3), ("bob", 4), ("carol", 5));

        Assert.Equal([1, 2, 4, 5, 3], order);
    }

    [Fact]
    public async Task Within_one_user_requests_are_first_in_first_out()
    {
        var order = await AdmissionOrderAsync(null, ("bob", 7), ("bob", 3), ("bob", 5));

        Assert.Equal([7, 3, 5], order);
    }

    [Fact]
    public void Queue_refuses_past_its_capacity_and_after_completion()
    {
        var queue = new FairAdmissionQueue<(string User, int Id)>(capacity: 2, r => r.User);

        Assert.True(queue.TryEnqueue(("a", 1)));
        Assert.True(queue.TryEnqueue(("b", 2)));
        Assert.False(queue.TryEnqueue(("c", 3)));
        Assert.True(queue.TryDequeue(out var first));
        Assert.Equal(1, first.Id);
        queue.Complete();
        Assert.False(queue.TryEnqueue(("c", 3)));
        Assert.True(queue.TryDequeue(out var second)); // what waits can still be taken
        Assert.Equal(2, second.Id);
        Assert.False(queue.TryDequeue(out _));
    }
}
