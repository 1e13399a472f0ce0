using System.Diagnostics;
using SovereignInference.AbiCheck;

// check-abi --source LLAMA_CPP_DIR [--lib BUILT_LIB_DIR] [--known FILE[,FILE...]] [--skip-library mtmd] [--cxx COMPILER] [--work DIR] [--verbose]
// Exit code: 0 no mismatch (other than the known ones), 1 mismatches found, 2 the check could not run.
// --known: findings (one "subject: message" a line, # comments) that are LLamaSharp's own, reviewed and accepted;
//          several files (comma-separated) are read as one list.
// --skip-library: comma-separated libraries not checked (their functions and their structs, named LIB_*).
var options = ParseArgs(args);
if (!options.TryGetValue("--source", out var source) || !File.Exists(Path.Combine(source, "include", "llama.h")))
{
    Console.Error.WriteLine("usage: check-abi --source LLAMA_CPP_SOURCE_DIR [--lib DIR_WITH_LIBLLAMA] [--known FILE[,FILE...]] [--skip-library mtmd] [--cxx c++] [--work DIR] [--verbose]");
    return 2;
}

var verbose = options.ContainsKey("--verbose");
var skipped = (options.GetValueOrDefault("--skip-library") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
var known = options.TryGetValue("--known", out var knownFiles)
    ? knownFiles.Split(',', StringSplitOptions.RemoveEmptyEntries).SelectMany(File.ReadAllLines)
        .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet(StringComparer.Ordinal)
    : [];
var all = ManagedAbi.Read(typeof(LLama.Native.NativeApi).Assembly);
var managed = all with { Functions = [.. all.Functions.Where(f => !skipped.Contains(f.Library))] };
var headerFiles = NativeProbe.HeaderFiles(source);
var headers = CHeaders.Parse([.. headerFiles.Select(File.ReadAllText)]);
var findings = new List<AbiFinding>();

var declared = managed.Functions.Where(f => headers.Declares(f.EntryPoint)).ToList();
findings.AddRange(managed.Functions.Except(declared).SelectMany(f => AbiComparer.CompareFunction(f, null)));

var structMap = new Dictionary<AbiStruct, string>();
foreach (var s in managed.Structs)
{
    if (AbiComparer.CStructFor(s.Name, headers.Structs.Keys) is { } cName)
    {
        if (skipped.Any(library => cName.StartsWith(library + "_", StringComparison.Ordinal)))
        {
            continue;
        }

        structMap[s] = cName;
    }
    else
    {
        findings.Add(new AbiFinding($"struct {s.Name}", "no struct of that name in the headers", true));
    }
}

var constants = managed.Constants.Where(c => headers.EnumConstants.Contains(c.Name)).ToList();
var program = NativeProbe.Program(
    headerFiles.Select(Path.GetFullPath).ToList(),
    declared.Select(f => f.EntryPoint),
    structMap.Values.Distinct().ToDictionary(c => c, c => headers.Structs[c]),
    constants.Select(c => c.Name).Distinct());
var work = options.GetValueOrDefault("--work") ?? Path.Combine(Path.GetTempPath(), $"check-abi-{Environment.ProcessId}");
AbiSurface native;
try
{
    native = NativeProbe.ParseOutput(NativeProbe.Run(program, Path.GetFullPath(source), work, options.GetValueOrDefault("--cxx") ?? Environment.GetEnvironmentVariable("CXX") ?? "c++"));
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

foreach (var f in declared)
{
    findings.AddRange(AbiComparer.CompareFunction(f, native.Functions.SingleOrDefault(n => n.EntryPoint == f.EntryPoint)));
}

foreach (var (s, cName) in structMap)
{
    findings.AddRange(AbiComparer.CompareStruct(s, native.Structs.Single(n => n.Name == cName)));
}

findings.AddRange(AbiComparer.CompareConstants(constants, native.Constants.ToDictionary(c => c.Name, c => c.Value)));

if (options.TryGetValue("--lib", out var lib))
{
    findings.AddRange(CheckExports(lib, declared)); // the undeclared ones are reported above
}

var accepted = findings.Where(f => f.IsMismatch && known.Contains($"{f.Subject}: {f.Message}")).ToHashSet();
foreach (var finding in findings.Where(f => (f.IsMismatch && !accepted.Contains(f)) || verbose))
{
    Console.WriteLine(accepted.Contains(finding) ? $"known {finding.Subject}: {finding.Message}" : finding.ToString());
}

foreach (var entry in known.Where(k => !accepted.Any(f => $"{f.Subject}: {f.Message}" == k)))
{
    Console.WriteLine($"note: known entry not seen this time: {entry}");
}

var mismatches = findings.Count(f => f.IsMismatch) - accepted.Count;
var llamaSharp = typeof(LLama.Native.NativeApi).Assembly;
// The assembly says 0.0.0.0; the package version is in this tool's deps.json.
var deps = Path.Combine(AppContext.BaseDirectory, "check-abi.deps.json");
var llamaSharpVersion = File.Exists(deps) && System.Text.RegularExpressions.Regex.Match(File.ReadAllText(deps), "\"LLamaSharp/([^\"]+)\"") is { Success: true } m
    ? m.Groups[1].Value
    : llamaSharp.GetName().Version?.ToString();
Console.WriteLine($"check-abi: LLamaSharp {llamaSharpVersion} against {Path.GetFullPath(source)}"
    + (lib is null ? "" : $" and the libraries in {Path.GetFullPath(lib)}")
    + $": {managed.Functions.Count} functions ({declared.Count} declared), {structMap.Count} structs, {constants.Count} enum constants checked"
    + (skipped.Count > 0 ? $" ({string.Join(", ", skipped)} not checked)" : "")
    + $"; {mismatches} mismatch{(mismatches == 1 ? "" : "es")}, {accepted.Count} known LLamaSharp {(accepted.Count == 1 ? "defect" : "defects")} accepted, "
    + $"{findings.Count(f => !f.IsMismatch)} notes{(verbose ? "" : " (--verbose shows the known ones and the notes)")}");
return mismatches == 0 ? 0 : 1;

static Dictionary<string, string> ParseArgs(string[] args)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        options[args[i]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
    }

    return options;
}

// Every bound function must be exported by one of the built libraries (nm -D); libmtmd is optional (multimodal only).
static IEnumerable<AbiFinding> CheckExports(string dir, IReadOnlyList<AbiFunction> functions)
{
    var exported = new HashSet<string>(StringComparer.Ordinal);
    var libraries = Directory.GetFiles(dir, "*.so*").Concat(Directory.GetFiles(dir, "*.dylib")).ToList();
    foreach (var library in libraries)
    {
        var start = new ProcessStartInfo("nm") { RedirectStandardOutput = true, ArgumentList = { "-D", "--defined-only", library } };
        using var nm = Process.Start(start)!;
        foreach (var line in nm.StandardOutput.ReadToEnd().Split('\n'))
        {
            if (line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, _, var symbol])
            {
                exported.Add(symbol);
            }
        }

        nm.WaitForExit();
    }

    var hasMtmd = libraries.Any(l => Path.GetFileName(l).StartsWith("libmtmd", StringComparison.Ordinal));
    foreach (var f in functions.Where(f => !exported.Contains(f.EntryPoint)))
    {
        if (f.Library == "mtmd" && !hasMtmd)
        {
            continue;
        }

        yield return new AbiFinding($"function {f.EntryPoint}", $"not exported by any library in {dir}", true);
    }

    if (!hasMtmd)
    {
        yield return new AbiFinding("library mtmd", $"no libmtmd in {dir}: its {functions.Count(f => f.Library == "mtmd")} functions (multimodal only) are unavailable", false);
    }
}
