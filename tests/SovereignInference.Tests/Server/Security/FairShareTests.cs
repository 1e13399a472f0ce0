using System.Diagnostics;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Requests;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Security;

/// <summary>Fair share: a key's burst cannot starve another key waiting for the same model.</summary>
public sealed class FairShareTests
{
    [Fact]
    public async Task One_key_flooding_a_one_slot_model_does_not_starve_another_key()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Parallel"] = "1" });
        var scheduler = server.Engine.GetReadyModel("scripted").Scheduler!;
        const int Flood = 20;

        // Starting each enumeration enqueues it synchronously, so the whole flood is queued before bob arrives.
        // Each alice request is long enough (64 tokens) that none can finish before bob is queued.
        var flood = Enumerable.Range(0, Flood).Select(i => Consume(server.Engine.GenerateAsync(Loop("alice", maxTokens: 64)), $"alice-{i}")).ToList();
        Assert.True(scheduler.QueuedRequests + scheduler.ActiveSequences >= Flood - 1, "the flood is queued");
        var bob = Consume(server.Engine.GenerateAsync(Hello("bob")), "bob");
        var admitted = await Task.WhenAll([.. flood, bob]);

        // Admission order, from each request's enqueue time plus its reported queue wait (one slot: admissions
        // are a whole request apart). FIFO would admit bob last (position 20); round robin admits him right
        // after the alice request(s) admitted before he arrived.
        var order = admitted.OrderBy(a => a.AdmittedAt).Select(a => a.Name).ToList();
        var bobPosition = order.IndexOf("bob");
        Assert.InRange(bobPosition, 0, 2);
        Assert.Equal(Enumerable.Range(0, Flood).Select(i => $"alice-{i}"), order.Where(o => o != "bob"));
    }

    [Fact]
    public void The_queue_interleaves_users_round_robin_and_keeps_each_users_order()
    {
        var queue = new FairAdmissionQueue<(string User, int N)>(100, r => r.User);
        foreach (var item in new[] { ("a", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 1), ("c", 1), ("b", 2) })
        {
            Assert.True(queue.TryEnqueue(item));
        }

        Assert.Equal(["a1", "b1", "c1", "a2", "b2", "a3", "a4"], Drain(queue));
    }

    [Fact]
    public void Priority_is_a_weight_admissions_per_round()
    {
        var queue = new FairAdmissionQueue<(string User, int N)>(100, r => r.User, user => user == "gold" ? 3 : 1);
        for (var i = 1; i <= 4; i++)
        {
            queue.TryEnqueue(("free", i));
        }

        for (var i = 1; i <= 7; i++)
        {
            queue.TryEnqueue(("gold", i));
        }

        Assert.Equal(["free1", "gold1", "gold2", "gold3", "free2", "gold4", "gold5", "gold6", "free3", "gold7", "free4"], Drain(queue));
    }

    [Fact]
    public void The_total_bound_holds_across_users_and_completion_refuses_more()
    {
        var queue = new FairAdmissionQueue<(string User, int N)>(3, r => r.User);

        Assert.True(queue.TryEnqueue(("a", 1)));
        Assert.True(queue.TryEnqueue(("b", 1)));
        Assert.True(queue.TryEnqueue(("c", 1)));
        Assert.False(queue.TryEnqueue(("d", 1)));
        Assert.Equal(3, queue.Count);
        Assert.True(queue.TryDequeue(out _));
        Assert.True(queue.TryEnqueue(("d", 1)));
        queue.Complete();
        Assert.True(queue.TryDequeue(out _));
        Assert.False(queue.TryEnqueue(("e", 1)));
    }

    private static async Task<(string Name, long AdmittedAt)> Consume(IAsyncEnumerable<GenerationUpdate> generation, string name)
    {
        var enqueuedAt = Stopwatch.GetTimestamp();
        var e = generation.GetAsyncEnumerator();
        var first = e.MoveNextAsync();
        GenerationUpdate? final = null;
        await using (e.ConfigureAwait(false))
        {
            var more = await first;
            while (more)
            {
                final = e.Current.Finish is not null ? e.Current : final;
                more = await e.MoveNextAsync();
            }
        }

        var wait = final!.Timings!.QueueWait;
        return (name, enqueuedAt + (long)(wait.TotalSeconds * Stopwatch.Frequency));
    }

    private static List<string> Drain(FairAdmissionQueue<(string User, int N)> queue)
    {
        var order = new List<string>();
        while (queue.TryDequeue(out var item))
        {
            order.Add(item.User + item.N);
        }

        return order;
    }
}
