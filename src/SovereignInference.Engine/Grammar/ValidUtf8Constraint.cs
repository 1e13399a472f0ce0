using SovereignInference.Engine.Abstractions;

namespace SovereignInference.Engine.Grammar;

/// <summary>
/// Wraps a grammar constraint so the output is also well-formed UTF-8. llama.cpp's grammar decodes UTF-8
/// leniently (overlong forms, surrogates and values past U+10FFFF count as characters), so byte-fallback
/// tokens could otherwise spell bytes that a strict decoder turns into several U+FFFD, breaking length limits
/// and JSON. Tracks the bytes emitted so far and masks every token whose bytes cannot continue them
/// (Unicode's table of well-formed byte sequences), and end-of-generation in the middle of a character.
/// </summary>
internal sealed class ValidUtf8Constraint(ITokenConstraint inner, ITokenizer tokenizer) : ITokenConstraint
{
    private Utf8State _state;

    public void Apply(Span<float> logits)
    {
        inner.Apply(logits);
        for (var token = 0; token < logits.Length; token++)
        {
            if (float.IsNegativeInfinity(logits[token]))
            {
                continue;
            }

            var state = _state;
            var ok = tokenizer.IsEndOfGeneration(token) ? state.Remaining == 0 : state.TryAdvance(tokenizer.GetPieceBytes(token));
            if (!ok)
            {
                logits[token] = float.NegativeInfinity;
            }
        }
    }

    public void Accept(int token)
    {
        inner.Accept(token);
        _state.TryAdvance(tokenizer.GetPieceBytes(token));
    }

    public void Dispose() => inner.Dispose();

    /// <summary>Where a strict UTF-8 decoder stands: continuation bytes still needed and the range of the next one.</summary>
    private struct Utf8State
    {
        public int Remaining;
        private byte _low;
        private byte _high;

        public bool TryAdvance(ReadOnlySpan<byte> bytes)
        {
            foreach (var b in bytes)
            {
                if (Remaining > 0)
                {
                    if (b < _low || b > _high)
                    {
                        return false;
                    }

                    Remaining--;
                    (_low, _high) = (0x80, 0xBF);
                    continue;
                }

                switch (b)
                {
                    case <= 0x7F:
                        break;
                    case >= 0xC2 and <= 0xDF:
                        Start(1, 0x80, 0xBF);
                        break;
                    case 0xE0:
                        Start(2, 0xA0, 0xBF);
                        break;
                    case 0xED:
                        Start(2, 0x80, 0x9F);
                        break;
                    case >= 0xE1 and <= 0xEF:
                        Start(2, 0x80, 0xBF);
                        break;
                    case 0xF0:
                        Start(3, 0x90, 0xBF);
                        break;
                    case >= 0xF1 and <= 0xF3:
                        Start(3, 0x80, 0xBF);
                        break;
                    case 0xF4:
                        Start(3, 0x80, 0x8F);
                        break;
                    default:
                        return false;
                }
            }

            return true;
        }

        private void Start(int remaining, byte low, byte high)
        {
            Remaining = remaining;
            _low = low;
            _high = high;
        }
    }
}
