using System.Text;

namespace SovereignInference.Engine.Output;

/// <summary>
/// Incremental UTF-8 → string decoding for streamed token bytes. A token may end in the middle of a multi-byte
/// character; its leading bytes are held until the following tokens complete it, so every returned string contains
/// only whole characters (never half a surrogate pair).
/// </summary>
/// <remarks>
/// Invalid input (unexpected continuation bytes, overlong forms, encoded surrogates, code points above U+10FFFF,
/// truncated sequences) becomes U+FFFD as soon as it is known to be invalid, one replacement per maximal invalid
/// subpart (the Unicode / WHATWG convention, identical to <see cref="Encoding.UTF8"/>). Feeding the bytes in any
/// split and then calling <see cref="Flush"/> yields exactly <c>Encoding.UTF8.GetString(allBytes)</c>.
/// Not thread-safe; one instance per request.
/// </remarks>
public sealed class Utf8StreamDecoder
{
    // At most 3 bytes are ever held; completing them can produce a surrogate pair, and each held byte of a sequence
    // that turns out invalid can produce one U+FFFD.
    private const int HeldSlack = 4;

    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];

    /// <summary>Decodes <paramref name="bytes"/> after any held bytes and returns the complete characters so far.</summary>
    /// <returns>The newly completed text; <see cref="string.Empty"/> when nothing completed.</returns>
    public string Append(ReadOnlySpan<byte> bytes) => Decode(bytes, flush: false);

    /// <summary>Ends the stream: returns U+FFFD for held bytes of an incomplete sequence (empty if none) and resets the decoder.</summary>
    public string Flush() => Decode([], flush: true);

    private string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        var needed = bytes.Length + HeldSlack;
        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        var count = _decoder.GetChars(bytes, _chars, flush);
        return count == 0 ? string.Empty : new string(_chars, 0, count);
    }
}
