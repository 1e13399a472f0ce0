using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SovereignInference.Server.Hosting;
using SovereignInference.Tests.TestSupport;
using YamlDotNet.RepresentationModel;

namespace SovereignInference.Tests.Server.Hosting;

/// <summary>docker/: the compose and Kubernetes files parse and agree; the Dockerfile's publish command yields a server that serves.</summary>
public sealed partial class DeploymentTests
{
    private static readonly string Root = FindRoot();
    private static readonly string Docker = Path.Combine(Root, "docker");

    [Fact]
    public void Compose_parses_and_references_existing_files_with_a_gpu_service_and_a_cpu_profile()
    {
        var compose = (YamlMappingNode)Load(Path.Combine(Docker, "compose.yaml")).Single().RootNode;
        var services = (YamlMappingNode)compose["services"];

        var gpu = (YamlMappingNode)services["sovereign"];
        var cpu = (YamlMappingNode)services["sovereign-cpu"];
        Assert.Equal("docker/Dockerfile.cuda", Scalar(gpu, "build", "dockerfile"));
        Assert.Equal("docker/Dockerfile", Scalar(cpu, "build", "dockerfile"));
        Assert.Equal("cpu", ((YamlSequenceNode)cpu["profiles"]).Children.Cast<YamlScalarNode>().Single().Value);
        var device = (YamlMappingNode)((YamlSequenceNode)Node(gpu, "deploy", "resources", "reservations", "devices")).Children.Single();
        Assert.Equal("nvidia", Scalar(device, "driver"));
        foreach (var service in new[] { gpu, cpu })
        {
            Assert.True(File.Exists(Path.Combine(Docker, Scalar(service, "build", "context"), Scalar(service, "build", "dockerfile"))));
            foreach (var envFile in ((YamlSequenceNode)service["env_file"]).Children.Cast<YamlScalarNode>())
            {
                Assert.True(File.Exists(Path.Combine(Docker, envFile.Value!)), envFile.Value);
            }

            var volume = (YamlMappingNode)((YamlSequenceNode)service["volumes"]).Children.Single();
            Assert.Equal(("/models", "true"), (Scalar(volume, "target"), Scalar(volume, "read_only")));
            Assert.Contains("8080:8080", ((YamlSequenceNode)service["ports"]).Children.Cast<YamlScalarNode>().Select(p => p.Value));
        }

        var secretFile = Scalar((YamlMappingNode)compose["secrets"], "sovereign-keys", "file");
        Assert.True(File.Exists(Path.Combine(Docker, secretFile)));
    }

    [Fact]
    public void Kubernetes_manifests_parse_and_their_names_agree()
    {
        var kustomization = (YamlMappingNode)Load(Path.Combine(Docker, "kubernetes", "kustomization.yaml")).Single().RootNode;
        var docs = ((YamlSequenceNode)kustomization["resources"]).Children.Cast<YamlScalarNode>()
            .SelectMany(file =>
            {
                var path = Path.Combine(Docker, "kubernetes", file.Value!);
                Assert.True(File.Exists(path), path);
                return Load(path).Select(d => (YamlMappingNode)d.RootNode);
            })
            .ToDictionary(d => Scalar(d, "kind"));

        Assert.Equal(["Deployment", "HorizontalPodAutoscaler", "PersistentVolumeClaim", "PodDisruptionBudget", "Service"], docs.Keys.Order());
        var deployment = docs["Deployment"];
        var name = Scalar(deployment, "metadata", "name");
        var podLabel = Scalar(deployment, "spec", "template", "metadata", "labels", "app.kubernetes.io/name");
        Assert.Equal(podLabel, Scalar(deployment, "spec", "selector", "matchLabels", "app.kubernetes.io/name"));
        Assert.Equal(podLabel, Scalar(docs["Service"], "spec", "selector", "app.kubernetes.io/name"));
        Assert.Equal(podLabel, Scalar(docs["PodDisruptionBudget"], "spec", "selector", "matchLabels", "app.kubernetes.io/name"));
        Assert.Equal(name, Scalar(docs["HorizontalPodAutoscaler"], "spec", "scaleTargetRef", "name"));
        Assert.Equal("sovereign_num_requests_waiting", Scalar((YamlMappingNode)((YamlSequenceNode)Node(docs["HorizontalPodAutoscaler"], "spec", "metrics")).Children.Single(), "pods", "metric", "name"));

        var pod = (YamlMappingNode)Node(deployment, "spec", "template", "spec");
        var container = (YamlMappingNode)((YamlSequenceNode)pod["containers"]).Children.Single();
        Assert.Equal("1", Scalar(container, "resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("/health/ready", Scalar(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("/health/live", Scalar(container, "livenessProbe", "httpGet", "path"));
        var env = ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>().ToDictionary(e => Scalar(e, "name"), e => Scalar(e, "value"));
        var preStopSleep = int.Parse(((YamlSequenceNode)Node(container, "lifecycle", "preStop", "exec", "command")).Children.Cast<YamlScalarNode>().Last().Value!, System.Globalization.CultureInfo.InvariantCulture);
        var grace = int.Parse(Scalar(pod, "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(grace >= preStopSleep + int.Parse(env["Sovereign__DrainTimeoutSeconds"], System.Globalization.CultureInfo.InvariantCulture) + 10, "grace period covers preStop + drain + host");

        var claim = Scalar(docs["PersistentVolumeClaim"], "metadata", "name");
        var volumes = ((YamlSequenceNode)pod["volumes"]).Children.Cast<YamlMappingNode>().ToDictionary(v => Scalar(v, "name"));
        Assert.Equal(claim, Scalar(volumes["models"], "persistentVolumeClaim", "claimName"));
        Assert.Equal("true", Scalar(volumes["models"], "persistentVolumeClaim", "readOnly"));
        Assert.Equal("ReadOnlyMany", ((YamlSequenceNode)Node(docs["PersistentVolumeClaim"], "spec", "accessModes")).Children.Cast<YamlScalarNode>().Single().Value);
        var mounts = ((YamlSequenceNode)container["volumeMounts"]).Children.Cast<YamlMappingNode>().ToDictionary(m => Scalar(m, "name"));
        Assert.Equal(("/models", "true"), (Scalar(mounts["models"], "mountPath"), Scalar(mounts["models"], "readOnly")));
        Assert.StartsWith(Scalar(mounts["keys"], "mountPath") + "/", env["Sovereign__ApiKeyFile"], StringComparison.Ordinal);

        var adapter = (YamlMappingNode)Load(Path.Combine(Docker, "kubernetes", "prometheus-adapter-values.yaml")).Single().RootNode;
        Assert.Contains("sovereign_num_requests_waiting", Scalar((YamlMappingNode)((YamlSequenceNode)Node(adapter, "rules", "custom")).Children.Single(), "seriesQuery"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_server_runtime_config_keeps_thread_pool_threads_from_spinning_beside_the_decode_threads()
    {
        var config = Path.Combine(Path.GetDirectoryName(typeof(ServerHost).Assembly.Location)!, "sovereign.runtimeconfig.json");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(config));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
        Assert.True(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.Equal(16, properties.GetProperty("System.Threading.ThreadPool.MinThreads").GetInt32());
    }

    [Fact]
    public void The_cpu_image_builds_the_self_built_llama_cpp_for_a_portable_target_and_serves_with_it()
    {
        var text = File.ReadAllText(Path.Combine(Docker, "Dockerfile"));
        var target = System.Text.RegularExpressions.Regex.Match(text, @"ARG CPU_TARGET=(\S+)").Groups[1].Value;
        Assert.Equal("x86-64-v3", target);
        var script = File.ReadAllText(Path.Combine(Docker, "..", "scripts", "native", "build-libllama.sh"));
        Assert.Contains($"  {target}) variant=cpu-$cpu_target; flags=(-DGGML_NATIVE=OFF", script, StringComparison.Ordinal);
        Assert.Contains("scripts/native/build-libllama.sh --cpu-target \"$CPU_TARGET\" --out /native", text, StringComparison.Ordinal);
        Assert.Contains("COPY --from=native /native /app/native", text, StringComparison.Ordinal);
        Assert.Contains("Sovereign__NativeLibDir=/app/native", text, StringComparison.Ordinal);

        // The version the image builds by default has its ABI patch.
        var native = Path.Combine(Docker, "..", "scripts", "native");
        var version = System.Text.RegularExpressions.Regex.Match(script, @"\nversion=(\S+)\n").Groups[1].Value;
        Assert.True(File.Exists(Path.Combine(native, $"llamasharp-0.30-abi-{version}.patch")), $"no ABI patch for the default version {version}");
    }

    [Fact]
    public void Dockerfiles_are_multi_stage_non_root_with_a_readiness_healthcheck_and_the_same_publish()
    {
        foreach (var file in new[] { "Dockerfile", "Dockerfile.cuda" })
        {
            var lines = File.ReadAllLines(Path.Combine(Docker, file));
            Assert.True(lines.Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)) >= 2, file);
            Assert.Contains(lines, l => l.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", StringComparison.Ordinal));
            Assert.Contains(lines, l => l == "USER 10001:10001");
            Assert.Contains(lines, l => l.Contains("http://127.0.0.1:8080/health/ready", StringComparison.Ordinal));
            Assert.Contains(lines, l => l == "VOLUME [\"/models\"]");
            Assert.Contains(lines, l => l.StartsWith("ENTRYPOINT [\"/app/sovereign\", \"serve\"]", StringComparison.Ordinal));
        }

        Assert.Contains("FROM nvidia/cuda:12.", File.ReadAllText(Path.Combine(Docker, "Dockerfile.cuda")), StringComparison.Ordinal);
        Assert.Equal(
            PublishCommand("Dockerfile").Replace("-p:Cuda=false", "-p:Cuda=true", StringComparison.Ordinal),
            PublishCommand("Dockerfile.cuda"));
    }

    [Fact]
    public async Task The_Dockerfile_publish_command_yields_a_server_that_gets_ready_and_exits_0_on_SIGTERM()
    {
        using var output = new TempDirectory();
        var command = PublishCommand("Dockerfile").Replace("-o /app", $"-o \"{output.Path}\"", StringComparison.Ordinal);
        Assert.Contains(output.Path, command, StringComparison.Ordinal);
        var (publishCode, publishLog) = await RunAsync("dotnet", command["dotnet ".Length..], Root, TimeSpan.FromMinutes(10));
        Assert.True(publishCode == 0, publishLog);
        var exe = Path.Combine(output.Path, "sovereign");
        Assert.True(File.Exists(exe), "published apphost");

        var start = new ProcessStartInfo(exe) { WorkingDirectory = output.Path };
        start.Environment["Sovereign__DemoModelWhenEmpty"] = "false";
        start.Environment["Sovereign__ModelsDir"] = Path.Combine(output.Path, "no-models");
        await using var server = ChildServer.Start(start, ["serve", "--model", ScriptedModels.Engine.Path, "--ctx-size", "256", "--parallel", "1", "--threads", "2"]);
        await server.AssertReadyAsync();

        Assert.Equal(0, Kill(server.Process.Id, 15));
        Assert.True(server.Process.WaitForExit(TimeSpan.FromSeconds(60)), "exits after SIGTERM");
        Assert.True(server.Process.ExitCode == 0, $"exit code {server.Process.ExitCode}\n{server.Log}");
    }

    private static string PublishCommand(string dockerfile)
    {
        var line = File.ReadAllLines(Path.Combine(Docker, dockerfile)).Single(l => l.StartsWith("RUN dotnet publish ", StringComparison.Ordinal));
        return line["RUN ".Length..];
    }

    private static async Task<(int Code, string Log)> RunAsync(string file, string arguments, string directory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private static List<YamlDocument> Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return [.. stream.Documents];
    }

    private static YamlNode Node(YamlMappingNode node, params string[] path)
    {
        YamlNode current = node;
        foreach (var key in path)
        {
            current = ((YamlMappingNode)current)[key];
        }

        return current;
    }

    private static string Scalar(YamlMappingNode node, params string[] path) => ((YamlScalarNode)Node(node, path)).Value!;

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SovereignInference.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
