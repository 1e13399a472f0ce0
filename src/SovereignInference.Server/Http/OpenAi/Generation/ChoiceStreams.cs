using System.Runtime.CompilerServices;
using System.Threading.Channels;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Server.Http.OpenAi.Generation;

/// <summary>One update of one choice, or the failure that ended it.</summary>
internal readonly record struct ChoiceUpdate<T>(int Index, T? Update, Exception? Error)
    where T : class;

/// <summary>
/// Runs the engine calls of one API call (n choices, or several prompts) side by side and merges their
/// updates (<see cref="Engine.Requests.GenerationUpdate"/>s or chat deltas). <see cref="StartAsync"/> returns only after every request has been admitted and has produced its
/// first update, so validation and admission errors surface before any response byte is written.
/// Disposing cancels whatever still runs.
/// </summary>
/// <remarks>
/// One call (n = 1, one prompt: nearly every request) is read directly, without a pump and a channel between it and the
/// reader: each hop through a channel is a thread-pool wake-up per token, and on a CPU server those take the decode
/// threads' cores.
/// </remarks>
internal sealed class ChoiceStreams<T> : IAsyncDisposable
    where T : class
{
    private readonly CancellationTokenSource _cts;
    private readonly IAsyncEnumerator<T>[] _enumerators;
    private readonly Channel<ChoiceUpdate<T>> _channel = Channel.CreateUnbounded<ChoiceUpdate<T>>(new UnboundedChannelOptions { SingleReader = true });
    private Task[] _pumps = [];
    private bool _directHasFirst;

    private ChoiceStreams(CancellationTokenSource cts, IAsyncEnumerator<T>[] enumerators)
    {
        _cts = cts;
        _enumerators = enumerators;
    }

    public int Count => _enumerators.Length;

    /// <summary>The first update of each call, once <see cref="StartAsync"/> returned.</summary>
    public IReadOnlyList<T?> Firsts { get; private set; } = [];

    /// <param name="count">How many calls.</param>
    /// <param name="call">Starts call i (an engine call such as GenerateAsync or ChatAsync) with the streams' token.</param>
    public static async Task<ChoiceStreams<T>> StartAsync(int count, Func<int, CancellationToken, IAsyncEnumerable<T>> call, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var enumerators = Enumerable.Range(0, count).Select(i => call(i, cts.Token).GetAsyncEnumerator(cts.Token)).ToArray();
        var streams = new ChoiceStreams<T>(cts, enumerators);
        var firsts = enumerators.Select(e => e.MoveNextAsync().AsTask()).ToList();
        Exception? failure = null;
        var pending = new List<Task<bool>>(firsts);
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (done.IsFaulted || done.IsCanceled)
            {
                var error = done.Exception?.InnerException ?? new OperationCanceledException(cancellationToken);
                if (failure is null || (failure is not EngineException && error is EngineException))
                {
                    failure = error;
                }

                await cts.CancelAsync();
            }
        }

        if (failure is not null)
        {
            await streams.DisposeAsync();
            throw failure;
        }

        streams.Firsts = [.. enumerators.Select((e, i) => firsts[i].Result ? e.Current : null)];
        if (count == 1)
        {
            streams._directHasFirst = firsts[0].Result;
            return streams;
        }

        streams._pumps = [.. enumerators.Select((e, i) => streams.PumpAsync(i, e, firsts[i].Result))];
        _ = Task.WhenAll(streams._pumps).ContinueWith(_ => streams._channel.Writer.TryComplete(), TaskScheduler.Default);
        return streams;
    }

    /// <summary>Every update of every choice, in arrival order; a failed choice ends with an update carrying its error.</summary>
    public async IAsyncEnumerable<ChoiceUpdate<T>> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Count == 1)
        {
            var hasFirst = _directHasFirst;
            _directHasFirst = false;
            await foreach (var update in UpdatesOf(0, _enumerators[0], hasFirst))
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return update;
            }

            // A reader of the channel learns of its own cancellation by an exception, so this one does too.
            cancellationToken.ThrowIfCancellationRequested();
            yield break;
        }

        await foreach (var update in _channel.Reader.ReadAllAsync(cancellationToken))
        {
            yield return update;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await Task.WhenAll(_pumps);
        }
        catch (OperationCanceledException)
        {
            // Cancelled pumps end quietly.
        }

        if (_pumps.Length == 0)
        {
            foreach (var e in _enumerators)
            {
                try
                {
                    await e.DisposeAsync();
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        _cts.Dispose();
    }

    private async Task PumpAsync(int index, IAsyncEnumerator<T> enumerator, bool hasFirst)
    {
        await Task.Yield();
        try
        {
            await foreach (var update in UpdatesOf(index, enumerator, hasFirst))
            {
                await _channel.Writer.WriteAsync(update);
            }
        }
        finally
        {
            try
            {
                await enumerator.DisposeAsync();
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// One call's updates from its first on, then the failure that ended it as a last update carrying the error; a call
    /// cancelled because the client went away or the streams are being disposed just ends.
    /// </summary>
    private async IAsyncEnumerable<ChoiceUpdate<T>> UpdatesOf(int index, IAsyncEnumerator<T> enumerator, bool hasFirst)
    {
        var has = hasFirst;
        while (has)
        {
            yield return new ChoiceUpdate<T>(index, enumerator.Current, null);
            Exception? failure = null;
            try
            {
                has = await enumerator.MoveNextAsync();
            }
            catch (OperationCanceledException) when (_cts.IsCancellationRequested)
            {
                has = false;
            }
#pragma warning disable CA1031 // the failure is handed to the reader, which reports it to the client
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex;
                has = false;
            }

            if (failure is not null)
            {
                yield return new ChoiceUpdate<T>(index, null, failure);
            }
        }
    }
}
