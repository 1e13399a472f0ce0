using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace SovereignInference.Server.Http.OpenAi.Responses;

/// <summary>Limits of the stored responses (Sovereign:Responses).</summary>
public sealed class ResponseStoreOptions
{
    public const string Section = "Sovereign:Responses";

    /// <summary>Most responses kept; past it the oldest is dropped. Default 1000; 0 keeps none (store is ignored).</summary>
    public int MaxStored { get; set; } = 1000;

    /// <summary>How long a stored response stays readable and chainable. Default 1 hour.</summary>
    public int TtlMinutes { get; set; } = 60;
}

/// <summary>One stored response: what GET returns and the conversation a follow-up (previous_response_id) continues.</summary>
internal sealed record StoredResponse(string Id, string? Owner, DateTimeOffset Expires, JsonObject Response, JsonArray Conversation);

/// <summary>
/// The bounded in-memory store behind <c>store</c>, <c>previous_response_id</c>, GET and DELETE /v1/responses/{id}.
/// Entries belong to the API key that created them: another key's id reads as not found, exactly like an id that
/// never existed, so ids cannot be probed. Bounded in count (oldest dropped) and in time (expired entries vanish).
/// </summary>
internal sealed class ResponseStore(ResponseStoreOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, StoredResponse> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public int Count => _entries.Count;

    public void Save(string id, string? owner, JsonObject response, JsonArray conversation)
    {
        if (options.MaxStored <= 0)
        {
            return;
        }

        _entries[id] = new StoredResponse(id, owner, time.GetUtcNow().AddMinutes(options.TtlMinutes), response, conversation);
        _order.Enqueue(id);
        while (_entries.Count > options.MaxStored && _order.TryDequeue(out var oldest))
        {
            _entries.TryRemove(oldest, out _);
        }
    }

    /// <summary>The entry with this id if it exists, has not expired and belongs to <paramref name="owner"/>.</summary>
    public StoredResponse? Get(string id, string? owner)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            return null;
        }

        if (entry.Expires <= time.GetUtcNow())
        {
            _entries.TryRemove(id, out _);
            return null;
        }

        return string.Equals(entry.Owner, owner, StringComparison.Ordinal) ? entry : null;
    }

    public bool Delete(string id, string? owner) => Get(id, owner) is not null && _entries.TryRemove(id, out _);
}
