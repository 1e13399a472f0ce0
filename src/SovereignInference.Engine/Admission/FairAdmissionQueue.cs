namespace SovereignInference.Engine.Admission;

/// <summary>
/// The admission queue of one model: requests wait here for a slot. Admission interleaves the users
/// (<see cref="Requests.GenerationRequest.User"/>, the API key name) by weighted round robin, so one
/// user's burst cannot starve another: each round, a user with weight w may admit up to w requests,
/// first in first out within the user. The bound is on the total across users (past it, Overloaded).
/// Enqueue is called from any thread; dequeue only from the scheduler thread.
/// </summary>
public sealed class FairAdmissionQueue<T>
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, UserQueue> _byUser = new(StringComparer.Ordinal);
    private readonly LinkedList<UserQueue> _round = new();
    private readonly Func<string, int> _weightOf;
    private readonly Func<T, string?> _userOf;
    private int _count;
    private bool _completed;

    /// <param name="capacity">Most requests waiting in total.</param>
    /// <param name="userOf">The user a request belongs to (null or empty: the anonymous user).</param>
    /// <param name="weightOf">Admissions per round for a user (values below 1 count as 1).</param>
    public FairAdmissionQueue(int capacity, Func<T, string?> userOf, Func<string, int>? weightOf = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _userOf = userOf;
        _weightOf = weightOf ?? (_ => 1);
    }

    public int Capacity { get; }

    /// <summary>Requests waiting, across all users.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Refuses every later <see cref="TryEnqueue"/>; what waits can still be taken.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
        }
    }

    /// <summary>Adds a request at the end of its user's queue; false when the total bound is reached or the queue is completed.</summary>
    public bool TryEnqueue(T item)
    {
        var user = _userOf(item) ?? "";
        lock (_lock)
        {
            if (_completed || _count >= Capacity)
            {
                return false;
            }

            if (!_byUser.TryGetValue(user, out var queue))
            {
                queue = new UserQueue(user);
                _byUser.Add(user, queue);
            }

            if (queue.Items.Count == 0)
            {
                // A user that was idle joins at the end of the round with a fresh allowance.
                queue.Credit = Math.Max(1, _weightOf(user));
                _round.AddLast(queue);
            }

            queue.Items.Enqueue(item);
            _count++;
            return true;
        }
    }

    /// <summary>Takes the next request in fair order.</summary>
    public bool TryDequeue(out T item)
    {
        lock (_lock)
        {
            var node = _round.First;
            if (node is null)
            {
                item = default!;
                return false;
            }

            var queue = node.Value;
            item = queue.Items.Dequeue();
            _count--;
            queue.Credit--;
            _round.RemoveFirst();
            if (queue.Items.Count == 0)
            {
                _byUser.Remove(queue.User);
            }
            else if (queue.Credit > 0)
            {
                // Still allowance left this round: stay in front.
                _round.AddFirst(queue);
            }
            else
            {
                queue.Credit = Math.Max(1, _weightOf(queue.User));
                _round.AddLast(queue);
            }

            return true;
        }
    }

    private sealed class UserQueue(string user)
    {
        public string User { get; } = user;

        public Queue<T> Items { get; } = new();

        public int Credit { get; set; }
    }
}
