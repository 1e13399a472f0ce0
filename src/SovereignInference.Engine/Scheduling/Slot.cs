namespace SovereignInference.Engine.Scheduling;

/// <summary>
/// One sequence slot of the context. <see cref="Tokens"/> mirrors exactly what the KV cache holds for
/// this sequence, position by position; it outlives the request so a later prompt can reuse a prefix.
/// </summary>
internal sealed class Slot(int id)
{
    public int Id { get; } = id;

    public List<int> Tokens { get; } = [];

    public ActiveSequence? Owner { get; set; }

    public long LastUsedStep { get; set; }

    public bool IsFree => Owner is null;

    public int CommonPrefixLength(ReadOnlySpan<int> prompt)
    {
        var n = Math.Min(prompt.Length, Tokens.Count);
        var i = 0;
        while (i < n && Tokens[i] == prompt[i])
        {
            i++;
        }

        return i;
    }
}
