using System.Text;
using System.Text.RegularExpressions;

namespace SovereignInference.AbiCheck;

/// <summary>
/// Just enough of C headers to drive the compiler: which functions are declared, which structs exist and the names
/// of their fields in order (anonymous unions and structs promoted, as C does), and which enum constants exist.
/// Types, sizes and offsets are never guessed here; the probe asks the compiler for them.
/// </summary>
public sealed partial class CHeaders
{
    private readonly string _text;

    private CHeaders(string text)
    {
        _text = text;
        Structs = ParseStructs(text);
        EnumConstants = ParseEnumConstants(text);
    }

    /// <summary>C struct name → field names in declaration order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Structs { get; }

    public IReadOnlySet<string> EnumConstants { get; }

    public static CHeaders Parse(params string[] headerTexts) => new(string.Join("\n", headerTexts.Select(Clean)));

    /// <summary>True when <paramref name="function"/> is declared (a name followed by a parameter list outside any comment).</summary>
    public bool Declares(string function) => Regex.IsMatch(_text, $@"(?<![\w.>]){Regex.Escape(function)}\s*\(");

    /// <summary>Removes comments and preprocessor lines (with their continuations).</summary>
    public static string Clean(string text)
    {
        text = BlockComment().Replace(text, " ");
        text = LineComment().Replace(text, "");
        var output = new StringBuilder(text.Length);
        var continued = false;
        foreach (var line in text.Split('\n'))
        {
            var isDirective = continued || line.TrimStart().StartsWith('#');
            continued = isDirective && line.TrimEnd().EndsWith('\\');
            output.Append(isDirective ? "" : line).Append('\n');
        }

        return output.ToString();
    }

    private static Dictionary<string, IReadOnlyList<string>> ParseStructs(string text)
    {
        var structs = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (Match match in StructHead().Matches(text))
        {
            var open = match.Index + match.Length - 1;
            var close = MatchingBrace(text, open);
            if (close < 0)
            {
                continue;
            }

            var name = match.Groups["name"].Success ? match.Groups["name"].Value : null;
            if (name is null || match.Groups["typedef"].Success)
            {
                // typedef struct [tag] { ... } name;  — the typedef name is the one C++ code can use without "struct".
                var after = TypedefName().Match(text, close + 1);
                name = after.Success ? after.Groups[1].Value : name;
            }

            if (name is not null && !structs.ContainsKey(name))
            {
                structs[name] = FieldNames(text[(open + 1)..close]);
            }
        }

        return structs;
    }

    /// <summary>Field names of a struct body, anonymous nested unions/structs promoted into it.</summary>
    public static IReadOnlyList<string> FieldNames(string body)
    {
        var names = new List<string>();
        var i = 0;
        var declaration = new StringBuilder();
        while (i < body.Length)
        {
            var c = body[i];
            if (c == '{')
            {
                var close = MatchingBrace(body, i);
                if (close < 0)
                {
                    break;
                }

                if (declaration.ToString().TrimEnd().EndsWith(')'))
                {
                    // A member function's body (C++ only code in a header): not a field.
                    declaration.Clear();
                    i = close + 1;
                    continue;
                }

                var semicolon = body.IndexOf(';', close);
                if (semicolon < 0)
                {
                    break;
                }

                var declarator = body[(close + 1)..semicolon].Trim();
                if (declarator.Length == 0)
                {
                    names.AddRange(FieldNames(body[(i + 1)..close])); // anonymous: its members are the outer struct's
                }
                else
                {
                    names.AddRange(Declarators(declarator));
                }

                declaration.Clear();
                i = semicolon + 1;
                continue;
            }

            if (c == ';')
            {
                names.AddRange(DeclaredNames(declaration.ToString()));
                declaration.Clear();
            }
            else
            {
                declaration.Append(c);
            }

            i++;
        }

        return names;
    }

    /// <summary>The names one declaration introduces: "int a, b[4]", "void (*cb)(int)", "unsigned x : 3".</summary>
    private static IEnumerable<string> DeclaredNames(string declaration)
    {
        declaration = declaration.Trim();
        if (declaration.Length == 0)
        {
            return [];
        }

        var functionPointer = FunctionPointerName().Match(declaration);
        if (functionPointer.Success)
        {
            return [functionPointer.Groups[1].Value];
        }

        return Declarators(declaration);
    }

    private static IEnumerable<string> Declarators(string declaration)
    {
        var depth = 0;
        var start = 0;
        var parts = new List<string>();
        for (var i = 0; i < declaration.Length; i++)
        {
            depth += declaration[i] is '(' or '[' ? 1 : declaration[i] is ')' or ']' ? -1 : 0;
            if (declaration[i] == ',' && depth == 0)
            {
                parts.Add(declaration[start..i]);
                start = i + 1;
            }
        }

        parts.Add(declaration[start..]);
        foreach (var part in parts)
        {
            var withoutArrayAndBits = ArrayOrBits().Replace(part, "");
            var identifier = LastIdentifier().Match(withoutArrayAndBits);
            if (identifier.Success)
            {
                yield return identifier.Groups[1].Value;
            }
        }
    }

    private static HashSet<string> ParseEnumConstants(string text)
    {
        var constants = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in EnumHead().Matches(text))
        {
            var open = match.Index + match.Length - 1;
            var close = MatchingBrace(text, open);
            if (close < 0)
            {
                continue;
            }

            foreach (var item in text[(open + 1)..close].Split(','))
            {
                var name = LeadingIdentifier().Match(item);
                if (name.Success)
                {
                    constants.Add(name.Groups[1].Value);
                }
            }
        }

        return constants;
    }

    private static int MatchingBrace(string text, int open)
    {
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            depth += text[i] == '{' ? 1 : text[i] == '}' ? -1 : 0;
            if (depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex BlockComment();

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"(?<typedef>\btypedef\s+)?\bstruct\s+(?<name>\w+)?\s*\{")]
    private static partial Regex StructHead();

    [GeneratedRegex(@"\G\s*(\w+)\s*;")]
    private static partial Regex TypedefName();

    [GeneratedRegex(@"\benum\s+\w*\s*(?::\s*\w+\s*)?\{")]
    private static partial Regex EnumHead();

    [GeneratedRegex(@"\(\s*\*\s*(\w+)\s*\)\s*\(")]
    private static partial Regex FunctionPointerName();

    [GeneratedRegex(@"\[[^\]]*\]|:\s*\d+\s*$")]
    private static partial Regex ArrayOrBits();

    [GeneratedRegex(@"(\w+)\s*$")]
    private static partial Regex LastIdentifier();

    [GeneratedRegex(@"^\s*([A-Za-z_]\w*)")]
    private static partial Regex LeadingIdentifier();
}
