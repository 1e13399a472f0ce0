using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using SovereignInference.Engine.Hosting;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Architecture;

/// <summary>
/// The engine's shape, as src/SovereignInference.Engine/README.md describes it: stage folders whose namespaces follow
/// them, <see cref="InferenceEngine"/> a facade over the stages, and one chat call that every chat-shaped transport
/// uses instead of repeating its steps. Call sites are read from the compiled IL, so what the code really calls counts.
/// </summary>
public sealed partial class EngineShapeTests
{
    private const string Engine = "SovereignInference.Engine.Hosting.InferenceEngine";
    private const int FacadeMaxLines = 200;

    private static readonly Dictionary<short, OperandType> OperandTypes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value, o => o.OperandType);

    private static readonly Lazy<List<CallSite>> ServerCalls = new(() => CallSites("sovereign"));

    /// <summary>A method call (or delegate creation) found in IL: who calls, and what.</summary>
    /// <param name="Caller">The top-level type and the source method, compiler-generated lambdas and state machines folded into it ("…Endpoint.HandleAsync").</param>
    /// <param name="Callee">Declaring type and method name ("SovereignInference.Engine.Hosting.InferenceEngine::ChatAsync").</param>
    private sealed record CallSite(string Caller, string Callee);

    [Fact]
    public void The_call_site_reader_sees_the_servers_engine_calls()
    {
        // Guards the tests below: a reader that found nothing would let them pass vacuously.
        var engineCalls = ServerCalls.Value.Where(c => c.Callee.StartsWith(Engine + "::", StringComparison.Ordinal)).ToList();
        Assert.Contains(engineCalls, c => c.Callee == Engine + "::EmbedAsync");
        Assert.Contains(engineCalls, c => c.Callee == Engine + "::GenerateAsync");
        Assert.Contains(ServerCalls.Value, c => c.Callee == "SovereignInference.Engine.Chat.ChatTurn::Prepare");
    }

    [Fact]
    public void Http_and_grpc_chat_go_through_the_engines_chat_call()
    {
        var callers = ServerCalls.Value.Where(c => c.Callee == Engine + "::ChatAsync").Select(c => c.Caller).Distinct().ToList();

        Assert.Contains("SovereignInference.Server.Http.OpenAi.Generation.ChatCall.StartAsync", callers);
        Assert.Contains("SovereignInference.Server.Grpc.InferenceService.Chat", callers);
    }

    [Fact]
    public void No_transport_repeats_the_chat_steps_the_chat_call_owns()
    {
        // Rendering a prompt alone (apply-template, count_tokens) is fine; turning it into a generation request and
        // reading the reply back is the chat call's job.
        string[] chatSteps =
        [
            "SovereignInference.Engine.Chat.ChatTurn::ToRequest",
            "SovereignInference.Engine.Chat.ChatTurn::NewAssembler",
        ];
        var repeated = ServerCalls.Value
            .Where(c => chatSteps.Contains(c.Callee) || c.Callee.StartsWith("SovereignInference.Engine.Output.ChatStreamAssembler::", StringComparison.Ordinal))
            .Select(c => $"{c.Caller} → {c.Callee}")
            .Distinct()
            .ToList();

        Assert.True(repeated.Count == 0, "chat steps repeated outside the engine: " + string.Join("; ", repeated));
    }

    [Fact]
    public void Only_the_plain_generation_apis_call_GenerateAsync()
    {
        // A chat-shaped endpoint calling GenerateAsync would bypass ChatAsync; a new plain-text API belongs on this list.
        var callers = ServerCalls.Value
            .Where(c => c.Callee == Engine + "::GenerateAsync")
            .Select(c => c.Caller)
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(
            ["SovereignInference.Server.Grpc.InferenceService.Generate", "SovereignInference.Server.Http.OpenAi.Endpoints.CompletionsEndpoint.HandleAsync"],
            callers);
    }

    [Fact]
    public void InferenceEngine_is_a_facade_of_one_short_file_without_logic_of_its_own()
    {
        var folder = RepositoryFiles.PathOf("src/SovereignInference.Engine/Hosting");
        var file = Assert.Single(Directory.GetFiles(folder, "InferenceEngine*.cs"));
        var lines = File.ReadAllLines(file);
        Assert.True(lines.Length < FacadeMaxLines, $"{Path.GetFileName(file)} has {lines.Length} lines; the facade stays under {FacadeMaxLines}: put the work in a stage");

        var code = lines.Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)).ToList();
        var logic = code.Where(l => ControlFlow().IsMatch(l)).ToList();
        Assert.True(logic.Count == 0, "the facade delegates; control flow belongs in a stage: " + string.Join(" | ", logic.Select(l => l.Trim())));

        var own = typeof(InferenceEngine)
            .GetMethods(BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null)
            .Select(m => m.Name)
            .ToList();
        Assert.True(own.Count == 0, "the facade has private methods: " + string.Join(", ", own));
    }

    [Fact]
    public void Engine_namespaces_follow_the_stage_folders_and_the_tests_mirror_them()
    {
        var src = RepositoryFiles.PathOf("src/SovereignInference.Engine");
        var wrong = new List<string>();
        foreach (var file in Directory.GetFiles(src, "*.cs", SearchOption.AllDirectories).Where(f => !IsBuildOutput(src, f)))
        {
            var folder = Path.GetRelativePath(src, Path.GetDirectoryName(file)!);
            var expected = folder == "." ? "SovereignInference.Engine" : "SovereignInference.Engine." + folder.Replace(Path.DirectorySeparatorChar, '.');
            var declared = FileNamespace().Match(File.ReadAllText(file)).Groups[1].Value;
            if (declared != expected)
            {
                wrong.Add($"{Path.GetRelativePath(src, file)}: {declared}");
            }
        }

        Assert.True(wrong.Count == 0, "namespace ≠ folder: " + string.Join("; ", wrong));
        foreach (var stage in new[] { "Models", "Admission", "Scheduling", "Output" })
        {
            Assert.True(Directory.Exists(Path.Combine(src, stage)), $"stage folder {stage}/ is missing");
        }

        var tests = RepositoryFiles.PathOf("tests/SovereignInference.Tests/Engine");
        var unmirrored = Directory.GetDirectories(tests).Select(Path.GetFileName).Where(d => !Directory.Exists(Path.Combine(src, d!))).ToList();
        Assert.True(unmirrored.Count == 0, "test folders without a src folder: " + string.Join(", ", unmirrored));
    }

    private static bool IsBuildOutput(string root, string file)
    {
        var first = Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar)[0];
        return first is "bin" or "obj";
    }

    /// <summary>Every call, callvirt, newobj, ldftn and ldvirtftn of every method body in the assembly.</summary>
    private static List<CallSite> CallSites(string assemblyName)
    {
        using var pe = new PEReader(File.OpenRead(Assembly.Load(assemblyName).Location));
        var md = pe.GetMetadataReader();
        var sites = new List<CallSite>();
        foreach (var typeHandle in md.TypeDefinitions)
        {
            var typeName = TypeName(md, typeHandle);
            foreach (var methodHandle in md.GetTypeDefinition(typeHandle).GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0)
                {
                    continue;
                }

                var caller = SourceMethod(typeName, md.GetString(method.Name));
                var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader();
                while (il.RemainingBytes > 0)
                {
                    short code = il.ReadByte();
                    if (code == 0xFE)
                    {
                        code = unchecked((short)(0xFE00 | il.ReadByte()));
                    }

                    var operand = OperandTypes[code];
                    if (operand == OperandType.InlineMethod)
                    {
                        var token = il.ReadInt32();
                        sites.Add(new CallSite(caller, Callee(md, MetadataTokens.EntityHandle(token))));
                        continue;
                    }

                    var skip = operand switch
                    {
                        OperandType.InlineNone => 0,
                        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                        OperandType.InlineVar => 2,
                        OperandType.InlineI8 or OperandType.InlineR => 8,
                        OperandType.InlineSwitch => 4 * il.ReadInt32(),
                        _ => 4,
                    };
                    il.Offset += skip;
                }
            }
        }

        return sites;
    }

    private static string Callee(MetadataReader md, EntityHandle handle) => handle.Kind switch
    {
        HandleKind.MethodDefinition => Member(md, md.GetMethodDefinition((MethodDefinitionHandle)handle)),
        HandleKind.MemberReference => Member(md, md.GetMemberReference((MemberReferenceHandle)handle)),
        HandleKind.MethodSpecification => Callee(md, md.GetMethodSpecification((MethodSpecificationHandle)handle).Method),
        _ => "?",
    };

    private static string Member(MetadataReader md, MethodDefinition method) =>
        TypeName(md, method.GetDeclaringType()) + "::" + md.GetString(method.Name);

    private static string Member(MetadataReader md, MemberReference member)
    {
        var parent = member.Parent.Kind switch
        {
            HandleKind.TypeReference => TypeName(md, (TypeReferenceHandle)member.Parent),
            HandleKind.TypeDefinition => TypeName(md, (TypeDefinitionHandle)member.Parent),
            _ => "?",
        };
        return parent + "::" + md.GetString(member.Name);
    }

    private static string TypeName(MetadataReader md, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        var name = md.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        return declaring.IsNil ? Qualified(md.GetString(type.Namespace), name) : TypeName(md, declaring) + "/" + name;
    }

    private static string TypeName(MetadataReader md, TypeReferenceHandle handle)
    {
        var type = md.GetTypeReference(handle);
        return type.ResolutionScope.Kind == HandleKind.TypeReference
            ? TypeName(md, (TypeReferenceHandle)type.ResolutionScope) + "/" + md.GetString(type.Name)
            : Qualified(md.GetString(type.Namespace), md.GetString(type.Name));
    }

    private static string Qualified(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;

    /// <summary>"A.B/&lt;&gt;c__DisplayClass0_0/&lt;&lt;HandleAsync&gt;b__0&gt;d" + "MoveNext" → "A.B.HandleAsync".</summary>
    private static string SourceMethod(string typeName, string methodName)
    {
        var parts = typeName.Split('/');
        var generated = string.Join("/", parts.Skip(1)) + "/" + methodName;
        var source = GeneratedName().Match(generated);
        return parts[0] + "." + (source.Success ? source.Groups[1].Value : methodName);
    }

    [GeneratedRegex(@"<([A-Za-z_][A-Za-z0-9_]*)>")]
    private static partial Regex GeneratedName();

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex FileNamespace();

    [GeneratedRegex(@"\b(if|else|for|foreach|while|switch|throw|catch|try)\b|\?\?|\s\?\s")]
    private static partial Regex ControlFlow();
}
