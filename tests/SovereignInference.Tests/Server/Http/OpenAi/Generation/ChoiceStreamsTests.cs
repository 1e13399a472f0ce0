using System.Runtime.CompilerServices;
using SovereignInference.Server.Http.OpenAi.Generation;

namespace SovereignInference.Tests.Server.Http.OpenAi.Generation;

/// <summary>
/// One call is read directly and several through pumps and a channel; the reader sees the same updates either way:
/// every update, a failure as a last update carrying it, and its own cancellation as an exception.
/// </summary>
public sealed class ChoiceStreamsTests
{
    private static async IAsyncEnumerable<string> Updates(string name, int count, Exception? failAfter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return $"{name}{i}";
        }

        if (failAfter is not null)
        {
            throw failAfter;
        }
    }

    private static async Task<List<(int Index, string? Update, string? Error)>> ReadAll(ChoiceStreams<string> streams)
    {
        var read = new List<(int, string?, string?)>();
        await foreach (var update in streams.ReadAllAsync())
        {
            read.Add((update.Index, update.Update, update.Error?.Message));
        }

        return read;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Each_call_yields_its_updates_in_order_then_its_failure(int calls)
    {
        await using var streams = await ChoiceStreams<string>.StartAsync(calls, (i, ct) => Updates($"c{i}-", 4, i == 0 ? new InvalidOperationException("boom") : null, ct), CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, calls).Select(i => $"c{i}-0"), streams.Firsts);
        var read = await ReadAll(streams);

        for (var i = 0; i < calls; i++)
        {
            var own = read.Where(r => r.Index == i).ToList();
            Assert.Equal(Enumerable.Range(0, 4).Select(n => $"c{i}-{n}"), own.Where(r => r.Update is not null).Select(r => r.Update));
            Assert.Equal(i == 0 ? ["boom"] : Array.Empty<string>(), own.Where(r => r.Error is not null).Select(r => r.Error!));
            Assert.Equal(i == 0 ? "boom" : $"c{i}-3", own[^1].Error ?? own[^1].Update);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task The_reader_learns_of_its_request_cancelled_by_an_exception(int calls)
    {
        using var request = new CancellationTokenSource();
        await using var streams = await ChoiceStreams<string>.StartAsync(calls, (i, ct) => Updates("x", int.MaxValue, null, ct), request.Token);
        var read = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in streams.ReadAllAsync(request.Token))
            {
                if (++read == 3)
                {
                    await request.CancelAsync();
                }
            }
        });
        Assert.True(read >= 3);
    }
}
