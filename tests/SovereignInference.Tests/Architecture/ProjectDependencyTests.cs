using System.Reflection;

namespace SovereignInference.Tests.Architecture;

/// <summary>
/// The "must not depend on" lines of each project's README, checked on the compiled assemblies: the assemblies
/// each one references (what its code really uses, not just what its project file lists).
/// </summary>
public sealed class ProjectDependencyTests
{
    private static string[] ReferencesOf(string assemblyName) =>
        [.. Assembly.Load(assemblyName).GetReferencedAssemblies().Select(a => a.Name!)];

    private static void AssertNone(string assemblyName, params string[] prefixes)
    {
        var forbidden = ReferencesOf(assemblyName).Where(r => prefixes.Any(p => r.StartsWith(p, StringComparison.Ordinal))).ToList();
        Assert.True(forbidden.Count == 0, $"{assemblyName} references {string.Join(", ", forbidden)}");
    }

    [Fact]
    public void The_assemblies_under_test_are_loaded_by_their_real_names()
    {
        // Guards the other tests: a wrong name would make them pass vacuously.
        Assert.Contains("LLamaSharp", ReferencesOf("SovereignInference.LlamaCpp"));
        Assert.Contains("SovereignInference.Engine", ReferencesOf("sovereign"));
        Assert.Contains("Spectre.Console", ReferencesOf("sovereign-bench"));
    }

    [Fact]
    public void Gguf_is_pure_managed_code_of_its_own() =>
        AssertNone("SovereignInference.Gguf", "SovereignInference.", "LLamaSharp", "Microsoft.AspNetCore", "Grpc");

    [Fact]
    public void Contracts_know_nothing_of_the_engine_or_the_server() =>
        AssertNone("SovereignInference.Contracts", "SovereignInference.");

    [Fact]
    public void Engine_has_no_transport_and_no_native_binding() =>
        AssertNone("SovereignInference.Engine", "LLamaSharp", "Microsoft.AspNetCore", "Grpc", "Google.Protobuf", "SovereignInference.Contracts", "SovereignInference.LlamaCpp", "sovereign");

    [Fact]
    public void LlamaCpp_has_no_transport() =>
        AssertNone("SovereignInference.LlamaCpp", "Microsoft.AspNetCore", "Grpc", "SovereignInference.Contracts", "sovereign");

    [Fact]
    public void Server_reaches_llama_cpp_only_through_LlamaCpp_and_carries_no_load_test_client() =>
        AssertNone("sovereign", "LLamaSharp", "Spectre.Console", "HdrHistogram", "Grpc.Net.Client", "sovereign-bench");

    [Fact]
    public void Bench_talks_to_the_server_over_the_wire_and_to_llama_cpp_only_through_LlamaCpp() =>
        AssertNone("sovereign-bench", "LLamaSharp", "Microsoft.AspNetCore");
}
