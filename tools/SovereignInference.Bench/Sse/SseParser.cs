using System.Buffers;
using System.Text;

namespace SovereignInference.Bench.Sse;

/// <summary>
/// Incremental <c>text/event-stream</c> parser (WHATWG HTML "event stream interpretation"): feed it the bytes of each
/// read as they arrive with the read's timestamp; it splits lines itself (LF, CRLF or CR, also when a line or a CRLF
/// pair is split across reads), skips comment lines (": keep-alive"), joins multi-line data, and dispatches an event at
/// each blank line stamped with the timestamp of the read that completed it. Lines are decoded as UTF-8 only once they
/// are whole, so a character split across reads is never damaged. A field named <c>error</c> (llama.cpp's server has
/// sent <c>error: {...}</c> lines) is taken as the data of an event of type "error".
/// </summary>
internal sealed class SseParser
{
    private readonly ArrayBufferWriter<byte> _line = new(256);
    private readonly StringBuilder _data = new();
    private string? _type;
    private bool _hasData;
    private bool _skipLineFeed;
    private bool _firstLine = true;

    /// <summary>Parses <paramref name="bytes"/> and appends every event they complete to <paramref name="events"/>.</summary>
    public void Feed(ReadOnlySpan<byte> bytes, long timestamp, ICollection<SseEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        while (!bytes.IsEmpty)
        {
            if (_skipLineFeed)
            {
                _skipLineFeed = false;
                if (bytes[0] == (byte)'\n')
                {
                    bytes = bytes[1..];
                    continue;
                }
            }

            var end = bytes.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                _line.Write(bytes);
                return;
            }

            _line.Write(bytes[..end]);
            _skipLineFeed = bytes[end] == (byte)'\r';
            bytes = bytes[(end + 1)..];
            ProcessLine(timestamp, events);
        }
    }

    /// <summary>
    /// Ends the stream. Per the specification an event not terminated by a blank line is discarded; the return value says
    /// whether such a partial event (or line) was left over, which a client may count as a truncated stream.
    /// </summary>
    public bool Complete()
    {
        var partial = _line.WrittenCount > 0 || _hasData;
        _line.Clear();
        ResetEvent();
        return partial;
    }

    private void ProcessLine(long timestamp, ICollection<SseEvent> events)
    {
        var line = Encoding.UTF8.GetString(_line.WrittenSpan);
        _line.Clear();
        if (_firstLine)
        {
            _firstLine = false;
            line = line.TrimStart('\uFEFF');
        }

        if (line.Length == 0)
        {
            if (_hasData)
            {
                events.Add(new SseEvent(_type ?? "message", _data.ToString(0, _data.Length - 1), timestamp));
            }

            ResetEvent();
            return;
        }

        if (line[0] == ':')
        {
            return;
        }

        var colon = line.IndexOf(':', StringComparison.Ordinal);
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? string.Empty : line[(colon + 1)..];
        if (value.StartsWith(' '))
        {
            value = value[1..];
        }

        switch (field)
        {
            case "data":
                _data.Append(value).Append('\n');
                _hasData = true;
                break;
            case "event":
                _type = value.Length == 0 ? null : value;
                break;
            case "error":
                _type = "error";
                _data.Append(value).Append('\n');
                _hasData = true;
                break;
            default:
                // id, retry and unknown fields do not matter to a benchmark client.
                break;
        }
    }

    private void ResetEvent()
    {
        _data.Clear();
        _type = null;
        _hasData = false;
    }
}
