using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SovereignInference.AbiCheck;

/// <summary>
/// Asks the C++ compiler about a llama.cpp source tree's headers: a generated program includes llama.h, ggml's and
/// mtmd's headers and prints, for each function, the class and size of its return and parameter types (deduced from
/// the function's type), for each struct its sizeof and every field's offsetof and size, and the value of
/// each enum constant asked for. The headers are the truth; nothing is parsed for types.
/// </summary>
public static class NativeProbe
{
    private static readonly string[] IncludeDirs = ["include", "ggml/include", "tools/mtmd"];

    /// <summary>Header files of a llama.cpp tree that declare what LLamaSharp binds.</summary>
    public static IReadOnlyList<string> HeaderFiles(string sourceDir)
    {
        var files = new List<string> { Path.Combine(sourceDir, "include", "llama.h") };
        foreach (var name in new[] { "ggml.h", "ggml-backend.h", "ggml-cpu.h", "ggml-alloc.h", "gguf.h" })
        {
            files.Add(Path.Combine(sourceDir, "ggml", "include", name));
        }

        files.Add(Path.Combine(sourceDir, "tools", "mtmd", "mtmd.h"));
        files.Add(Path.Combine(sourceDir, "tools", "mtmd", "mtmd-helper.h"));
        return [.. files.Where(File.Exists)];
    }

    /// <summary>The probe program for the given functions, structs (C name → fields) and constants.</summary>
    public static string Program(IReadOnlyList<string> headers, IEnumerable<string> functions, IReadOnlyDictionary<string, IReadOnlyList<string>> structs, IEnumerable<string> constants)
    {
        var code = new StringBuilder();
        code.AppendLine("#include <cstdio>\n#include <cstddef>\n#include <type_traits>");
        foreach (var header in headers)
        {
            code.Append("#include \"").Append(header).AppendLine("\"");
        }

        code.AppendLine("""
            template <class T> constexpr int abi_class() {
                if constexpr (std::is_void_v<T>) return 0;
                else if constexpr (std::is_floating_point_v<T>) return 2;
                else if constexpr (std::is_class_v<T> || std::is_union_v<T> || std::is_array_v<T>) return 3;
                else return 1;
            }
            template <class T> constexpr size_t abi_size() { if constexpr (std::is_void_v<T>) return 0; else return sizeof(T); }
            template <class T> void type_out() { std::printf(" %d:%zu", abi_class<T>(), abi_size<T>()); }
            template <class R, class... A> void fn(const char * name, R (*)(A...)) { std::printf("F %s 0", name); type_out<R>(); (type_out<A>(), ...); std::printf("\n"); }
            template <class R, class... A> void fn(const char * name, R (*)(A..., ...)) { std::printf("F %s 1", name); type_out<R>(); (type_out<A>(), ...); std::printf("\n"); }
            #define FIELD(S, f) std::printf("M " #S " " #f " %zu", offsetof(S, f)); type_out<std::remove_cv_t<decltype(((S *) nullptr)->f)>>(); std::printf("\n");
            int main() {
            """);
        foreach (var function in functions)
        {
            // decltype only: the function is never referenced, so nothing needs linking.
            code.Append("    fn(\"").Append(function).Append("\", (decltype(&").Append(function).AppendLine(")) nullptr);");
        }

        foreach (var (name, fields) in structs)
        {
            code.Append("    std::printf(\"S ").Append(name).Append(" %zu\\n\", sizeof(").Append(name).AppendLine("));");
            foreach (var field in fields)
            {
                code.Append("    FIELD(").Append(name).Append(", ").Append(field).AppendLine(")");
            }
        }

        foreach (var constant in constants)
        {
            code.Append("    std::printf(\"C ").Append(constant).Append(" %lld\\n\", (long long) ").Append(constant).AppendLine(");");
        }

        code.AppendLine("    return 0;\n}");
        return code.ToString();
    }

    /// <summary>Compiles and runs the probe; returns its output, or throws with the compiler's message.</summary>
    public static string Run(string program, string sourceDir, string workDir, string compiler)
    {
        Directory.CreateDirectory(workDir);
        var source = Path.Combine(workDir, "abi-probe.cpp");
        var binary = Path.Combine(workDir, "abi-probe");
        File.WriteAllText(source, program);
        var includes = IncludeDirs.Select(d => "-I" + Path.Combine(sourceDir, d));
        var (rc, output) = Exec(compiler, ["-std=c++17", "-w", .. includes, "-o", binary, source]);
        if (rc != 0)
        {
            throw new InvalidOperationException($"the probe does not compile against {sourceDir} ({source}):\n{output}");
        }

        (rc, output) = Exec(binary, []);
        return rc == 0 ? output : throw new InvalidOperationException($"the probe exited {rc}:\n{output}");
    }

    /// <summary>Reads the probe's output back into functions, structs and constants.</summary>
    public static AbiSurface ParseOutput(string output)
    {
        var functions = new List<AbiFunction>();
        var structs = new List<(string Name, int Size, List<AbiField> Fields)>();
        var constants = new List<AbiConstant>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(' ');
            switch (f[0])
            {
                case "F":
                    var types = f[3..].Select(ParseType).ToList();
                    functions.Add(new AbiFunction("", f[1], types[0], [.. types.Skip(1).Select((t, i) => new AbiParameter($"#{i + 1}", t))], "header", f[2] == "1"));
                    break;
                case "S":
                    structs.Add((f[1], int.Parse(f[2], CultureInfo.InvariantCulture), []));
                    break;
                case "M":
                    structs.Single(s => s.Name == f[1]).Fields.Add(new AbiField(f[2], int.Parse(f[3], CultureInfo.InvariantCulture), ParseType(f[4])));
                    break;
                case "C":
                    constants.Add(new AbiConstant(f[1], long.Parse(f[2], CultureInfo.InvariantCulture), "header"));
                    break;
                default:
                    throw new FormatException($"unexpected probe line: {line}");
            }
        }

        return new AbiSurface(functions, [.. structs.Select(s => new AbiStruct(s.Name, s.Size, s.Fields))], constants);
    }

    private static AbiType ParseType(string text)
    {
        var parts = text.Split(':');
        var abiClass = (AbiClass)int.Parse(parts[0], CultureInfo.InvariantCulture);
        var size = int.Parse(parts[1], CultureInfo.InvariantCulture);
        return new AbiType(abiClass, size, abiClass switch
        {
            AbiClass.Void => "void",
            AbiClass.Float => size == 4 ? "float" : "double",
            AbiClass.Aggregate => "struct/array",
            _ => $"int{size * 8}/pointer/enum",
        });
    }

    private static (int ExitCode, string Output) Exec(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
