using System.Globalization;
using System.Text;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Engine.Grammar;

/// <summary>
/// Checks a GBNF grammar in managed code with the same syntax rules as llama.cpp's parser
/// (src/llama-grammar.cpp), but conservatively: whatever passes here also parses there. This matters because
/// llama.cpp hands back a null sampler for a bad grammar, which LLamaSharp adds to the chain unchecked, and
/// some inputs are worse than a parse error there: <c>x{5,3}</c> loops allocating rules, deep nesting
/// overflows the native stack. Rejected: syntax errors, undefined rules, a missing start rule, left
/// recursion (also through rules that may match nothing), repetition bounds past llama.cpp's limits,
/// token references (<c>&lt;...&gt;</c>, <c>!</c>), NUL characters and oversized grammars.
/// </summary>
public static class GbnfValidator
{
    /// <summary>Longest grammar text accepted (characters).</summary>
    public const int MaxLength = 256 * 1024;

    /// <summary>Deepest nesting of parentheses accepted.</summary>
    public const int MaxNesting = 32;

    /// <summary>llama.cpp's MAX_REPETITION_THRESHOLD.</summary>
    private const long RepetitionThreshold = 2000;

    private const string Param = "response_format";

    /// <summary>Throws <see cref="EngineException"/> (InvalidArgument, param <c>response_format</c>) naming the problem.</summary>
    public static void Validate(GrammarSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrEmpty(spec.Gbnf))
        {
            throw Fail("the grammar is empty");
        }

        if (spec.Gbnf.Length > MaxLength)
        {
            throw Fail($"the grammar has {spec.Gbnf.Length} characters; at most {MaxLength} are accepted");
        }

        if (InputChecks.ContainsNul(spec.Gbnf))
        {
            throw Fail("the grammar contains a NUL character");
        }

        if (System.Text.Unicode.Utf8.FromUtf16(spec.Gbnf, new byte[Encoding.UTF8.GetMaxByteCount(spec.Gbnf.Length)], out _, out _, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
        {
            throw Fail("the grammar contains an unpaired UTF-16 surrogate");
        }

        var parser = new Parser(spec.Gbnf);
        var rules = parser.ParseGrammar();
        if (rules.Count == 0)
        {
            throw Fail("the grammar defines no rule");
        }

        if (string.IsNullOrEmpty(spec.Root) || !rules.ContainsKey(spec.Root))
        {
            throw Fail($"the grammar has no start rule '{spec.Root}'");
        }

        foreach (var (name, alternatives) in rules)
        {
            foreach (var reference in References(alternatives))
            {
                if (!rules.ContainsKey(reference))
                {
                    throw Fail($"rule '{name}' refers to undefined rule '{reference}'");
                }
            }
        }

        CheckLeftRecursion(rules);
    }

    private static EngineException Fail(string message) =>
        EngineException.Invalid(Param, "Invalid grammar: " + message);

    private static IEnumerable<string> References(List<List<Element>> alternatives)
    {
        foreach (var sequence in alternatives)
        {
            foreach (var element in sequence)
            {
                foreach (var name in References(element))
                {
                    yield return name;
                }
            }
        }
    }

    private static IEnumerable<string> References(Element element) => element switch
    {
        RefElement r => [r.Name],
        GroupElement g => References(g.Alternatives),
        RepeatElement rep => References(rep.Inner),
        _ => [],
    };

    /// <summary>
    /// Rejects any rule that can reach itself without consuming a character. Uses real nullability (a rule
    /// that may match nothing through other rules), which finds every cycle llama.cpp's syntactic check finds.
    /// </summary>
    private static void CheckLeftRecursion(Dictionary<string, List<List<Element>>> rules)
    {
        var nullable = new HashSet<string>(StringComparer.Ordinal);
        bool changed;
        do
        {
            changed = false;
            foreach (var (name, alternatives) in rules)
            {
                if (!nullable.Contains(name) && alternatives.Any(seq => seq.All(e => IsNullable(e, nullable))))
                {
                    nullable.Add(name);
                    changed = true;
                }
            }
        }
        while (changed);

        var edges = rules.ToDictionary(
            r => r.Key,
            r => r.Value.SelectMany(seq => LeftReferences(seq, nullable)).Distinct(StringComparer.Ordinal).ToList(),
            StringComparer.Ordinal);

        // Iterative DFS: 0 = unvisited, 1 = on the stack, 2 = done.
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var start in rules.Keys)
        {
            if (state.GetValueOrDefault(start) != 0)
            {
                continue;
            }

            var stack = new Stack<(string Rule, int Next)>();
            stack.Push((start, 0));
            state[start] = 1;
            while (stack.Count > 0)
            {
                var (rule, next) = stack.Pop();
                var targets = edges[rule];
                if (next < targets.Count)
                {
                    stack.Push((rule, next + 1));
                    var target = targets[next];
                    var s = state.GetValueOrDefault(target);
                    if (s == 1)
                    {
                        throw Fail($"rule '{target}' is left-recursive (it can refer to itself before matching a character); llama.cpp does not support left recursion");
                    }

                    if (s == 0)
                    {
                        state[target] = 1;
                        stack.Push((target, 0));
                    }
                }
                else
                {
                    state[rule] = 2;
                }
            }
        }
    }

    private static bool IsNullable(Element element, HashSet<string> nullable) => element switch
    {
        TerminalElement => false,
        RefElement r => nullable.Contains(r.Name),
        GroupElement g => g.Alternatives.Any(seq => seq.All(e => IsNullable(e, nullable))),
        RepeatElement rep => rep.Min == 0 || IsNullable(rep.Inner, nullable),
        _ => false,
    };

    private static IEnumerable<string> LeftReferences(List<Element> sequence, HashSet<string> nullable)
    {
        foreach (var element in sequence)
        {
            foreach (var name in LeftReferences(element, nullable))
            {
                yield return name;
            }

            if (!IsNullable(element, nullable))
            {
                yield break;
            }
        }
    }

    private static IEnumerable<string> LeftReferences(Element element, HashSet<string> nullable) => element switch
    {
        RefElement r => [r.Name],
        GroupElement g => g.Alternatives.SelectMany(seq => LeftReferences(seq, nullable)),
        RepeatElement rep => LeftReferences(rep.Inner, nullable),
        _ => [],
    };

    private abstract record Element;

    private sealed record TerminalElement : Element;

    private sealed record RefElement(string Name) : Element;

    private sealed record GroupElement(List<List<Element>> Alternatives) : Element;

    private sealed record RepeatElement(Element Inner, long Min, long Max) : Element;

    /// <summary>A parsed sequence item (null element: an empty literal, nothing to repeat) and the rules it expands to.</summary>
    private readonly record struct SequenceItem(Element? Element, long Rules);

    /// <summary>A port of llama_grammar_parser's recursive descent, building a small tree instead of rules.</summary>
    private sealed class Parser(string text)
    {
        private readonly string _text = text;
        private readonly Dictionary<string, List<List<Element>>> _rules = new(StringComparer.Ordinal);
        private int _pos;
        private int _depth;

        // An upper bound of the symbols llama.cpp creates (it counts new names; this counts every reference).
        private long _symbols;

        private char Cur => _pos < _text.Length ? _text[_pos] : '\0';

        private char At(int offset) => _pos + offset < _text.Length ? _text[_pos + offset] : '\0';

        public Dictionary<string, List<List<Element>>> ParseGrammar()
        {
            SkipSpace(newlineOk: true);
            while (_pos < _text.Length)
            {
                ParseRule();
            }

            return _rules;
        }

        private static bool IsWordChar(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-';

        private EngineException Error(string what)
        {
            var line = 1 + _text.AsSpan(0, Math.Min(_pos, _text.Length)).Count('\n');
            var tail = _pos < _text.Length ? _text.Substring(_pos, Math.Min(20, _text.Length - _pos)) : "end of input";
            return Fail($"{what} at line {line} near '{tail}'");
        }

        private void SkipSpace(bool newlineOk)
        {
            while (_pos < _text.Length)
            {
                var c = _text[_pos];
                if (c is ' ' or '\t' || (newlineOk && c is '\r' or '\n'))
                {
                    _pos++;
                }
                else if (c == '#')
                {
                    while (_pos < _text.Length && _text[_pos] is not ('\r' or '\n'))
                    {
                        _pos++;
                    }
                }
                else
                {
                    break;
                }
            }
        }

        private string ParseName()
        {
            var start = _pos;
            while (IsWordChar(Cur))
            {
                _pos++;
            }

            if (_pos == start)
            {
                throw Error("expecting a rule name");
            }

            return _text[start.._pos];
        }

        private void ParseRule()
        {
            var name = ParseName();
            SkipSpace(newlineOk: false);
            if (!(Cur == ':' && At(1) == ':' && At(2) == '='))
            {
                throw Error("expecting ::=");
            }

            _pos += 3;
            SkipSpace(newlineOk: true);
            var alternatives = ParseAlternates(nested: false);
            if (!_rules.TryAdd(name, alternatives))
            {
                throw Error($"rule '{name}' is defined twice");
            }

            _symbols++;
            if (Cur == '\r')
            {
                _pos += At(1) == '\n' ? 2 : 1;
            }
            else if (Cur == '\n')
            {
                _pos++;
            }
            else if (_pos < _text.Length)
            {
                throw Error("expecting newline or end");
            }

            SkipSpace(newlineOk: true);
        }

        private List<List<Element>> ParseAlternates(bool nested)
        {
            var alternatives = new List<List<Element>> { ParseSequence(nested) };
            while (Cur == '|')
            {
                _pos++;
                SkipSpace(newlineOk: true);
                alternatives.Add(ParseSequence(nested));
            }

            return alternatives;
        }

        /// <summary>
        /// Items up to the next '|', ')' or rule end, each optionally repeated (*, +, ?, {m,n}). Tracks what
        /// llama.cpp's parser tracks: whether there is an item to repeat and how many rules the last one expands to.
        /// </summary>
        private List<Element> ParseSequence(bool nested)
        {
            var sequence = new List<Element>();
            var hasPrevious = false;
            long previousRules = 1;
            while (_pos < _text.Length)
            {
                var c = Cur;
                if (c is '*' or '+' or '?' or '{')
                {
                    var (min, max) = ParseRepetition(nested);
                    Repeat(sequence, ref hasPrevious, ref previousRules, min, max);
                    continue;
                }

                if (ParseItem(c, nested) is not { } item)
                {
                    break;
                }

                hasPrevious = item.Element is not null;
                previousRules = item.Rules;
                if (item.Element is not null)
                {
                    sequence.Add(item.Element);
                }
            }

            return sequence;
        }

        /// <summary>One item starting at <paramref name="c"/>, or null when <paramref name="c"/> ends the sequence.</summary>
        private SequenceItem? ParseItem(char c, bool nested) => c switch
        {
            '"' => ParseLiteral(nested),
            '[' => ParseCharacterClass(nested),
            '(' => ParseGroup(nested),
            '.' => ParseAnyCharacter(nested),
            '<' or '!' => throw Error("token references (<...> and !<...>) are not supported"),
            _ when IsWordChar(c) => ParseReference(nested),
            _ => null,
        };

        /// <summary>".": any character.</summary>
        private SequenceItem ParseAnyCharacter(bool nested)
        {
            _pos++;
            SkipSpace(nested);
            return new SequenceItem(new TerminalElement(), 1);
        }

        /// <summary>"...": a terminal, or no item at all when the literal is empty.</summary>
        private SequenceItem ParseLiteral(bool nested)
        {
            _pos++;
            var chars = 0;
            while (Cur != '"')
            {
                if (_pos >= _text.Length)
                {
                    throw Error("unterminated string literal");
                }

                ParseChar();
                chars++;
            }

            _pos++;
            SkipSpace(nested);
            return new SequenceItem(chars > 0 ? new TerminalElement() : null, 1);
        }

        /// <summary>[...] or [^...], with a-z ranges; never empty.</summary>
        private SequenceItem ParseCharacterClass(bool nested)
        {
            _pos++;
            if (Cur == '^')
            {
                _pos++;
            }

            var items = 0;
            while (Cur != ']')
            {
                if (_pos >= _text.Length)
                {
                    throw Error("unterminated character class");
                }

                ParseChar();
                items++;
                if (Cur == '-' && At(1) != ']')
                {
                    if (_pos + 1 >= _text.Length)
                    {
                        throw Error("unterminated character range");
                    }

                    _pos++;
                    ParseChar();
                }
            }

            if (items == 0)
            {
                throw Error("empty character class");
            }

            _pos++;
            SkipSpace(nested);
            return new SequenceItem(new TerminalElement(), 1);
        }

        /// <summary>A rule name.</summary>
        private SequenceItem ParseReference(bool nested)
        {
            var name = ParseName();
            SkipSpace(nested);
            _symbols++;
            return new SequenceItem(new RefElement(name), 1);
        }

        /// <summary>( alternatives ), at most <see cref="MaxNesting"/> deep; it expands to the rules created inside it.</summary>
        private SequenceItem ParseGroup(bool nested)
        {
            if (++_depth > MaxNesting)
            {
                throw Error($"parentheses nest deeper than {MaxNesting}");
            }

            _pos++;
            SkipSpace(newlineOk: true);
            var before = _symbols;
            _symbols++;
            var group = ParseAlternates(nested: true);
            var rules = Math.Max(1, _symbols - before);
            if (Cur != ')')
            {
                throw Error("expecting ')'");
            }

            _depth--;
            _pos++;
            SkipSpace(nested);
            return new SequenceItem(new GroupElement(group), rules);
        }

        /// <summary>*, +, ? or {m}, {m,}, {m,n}: the bounds (unbounded = long.MaxValue), checked as llama.cpp checks them.</summary>
        private (long Min, long Max) ParseRepetition(bool nested)
        {
            var c = Cur;
            _pos++;
            SkipSpace(nested);
            if (c != '{')
            {
                return c switch { '*' => (0L, long.MaxValue), '+' => (1L, long.MaxValue), _ => (0L, 1L) };
            }

            var min = ParseInt();
            SkipSpace(nested);
            var max = long.MaxValue;
            if (Cur == '}')
            {
                max = min;
            }
            else if (Cur == ',')
            {
                _pos++;
                SkipSpace(nested);
                if (Cur is >= '0' and <= '9')
                {
                    max = ParseInt();
                    SkipSpace(nested);
                }

                if (Cur != '}')
                {
                    throw Error("expecting '}'");
                }
            }
            else
            {
                throw Error("expecting ',' or '}'");
            }

            _pos++;
            SkipSpace(nested);
            if (min > RepetitionThreshold)
            {
                throw Error($"a repetition minimum above {RepetitionThreshold}");
            }

            if (max != long.MaxValue && max > RepetitionThreshold)
            {
                max = long.MaxValue;
            }

            if (max < min)
            {
                throw Error($"a repetition {{{min},{max}}} whose maximum is below its minimum");
            }

            return (min, max);
        }

        private void Repeat(List<Element> sequence, ref bool hasPrevious, ref long previousRules, long min, long max)
        {
            if (!hasPrevious || sequence.Count == 0)
            {
                throw Error("a repetition (*, +, ? or {}) without an item before it");
            }

            var unbounded = max == long.MaxValue;
            long total = 1;
            if (!unbounded && max > 0)
            {
                total = max;
            }
            else if (min > 0)
            {
                total = min;
            }

            if (previousRules * total >= RepetitionThreshold)
            {
                throw Error($"repetitions that expand to more than {RepetitionThreshold} rules");
            }

            var optional = unbounded ? 1 : max - min;
            _symbols += optional;
            previousRules *= total;
            sequence[^1] = new RepeatElement(sequence[^1], min, max);
            if (min == 0 && optional == 0)
            {
                // x{0} (or x{0,0}) leaves nothing behind in llama.cpp; a following operator has no item.
                sequence.RemoveAt(sequence.Count - 1);
                hasPrevious = false;
            }
        }

        private long ParseInt()
        {
            var start = _pos;
            while (Cur is >= '0' and <= '9')
            {
                _pos++;
            }

            if (_pos == start)
            {
                throw Error("expecting an integer");
            }

            // llama.cpp's std::stoull throws on overflow; anything this long is past the threshold anyway.
            return _pos - start > 9 ? RepetitionThreshold + 1 : long.Parse(_text.AsSpan(start, _pos - start), CultureInfo.InvariantCulture);
        }

        private void ParseChar()
        {
            if (Cur == '\\')
            {
                var kind = At(1);
                switch (kind)
                {
                    case 'x':
                        ParseHex(2);
                        return;
                    case 'u':
                        ParseHex(4);
                        return;
                    case 'U':
                        ParseHex(8);
                        return;
                    case 't' or 'r' or 'n' or '\\' or '"' or '[' or ']' or '-':
                        _pos += 2;
                        return;
                    default:
                        throw Error("unknown escape");
                }
            }

            if (_pos >= _text.Length)
            {
                throw Error("unexpected end of input");
            }

            _pos += char.IsHighSurrogate(Cur) ? 2 : 1;
        }

        private void ParseHex(int digits)
        {
            _pos += 2;
            for (var i = 0; i < digits; i++)
            {
                if (!char.IsAsciiHexDigit(Cur))
                {
                    throw Error($"expecting {digits} hex digits");
                }

                _pos++;
            }
        }
    }

    /// <summary>Writes <paramref name="text"/> as a GBNF string literal (quotes included).</summary>
    public static string Literal(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case < ' ' or '\x7F':
                    sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        return sb.Append('"').ToString();
    }
}
