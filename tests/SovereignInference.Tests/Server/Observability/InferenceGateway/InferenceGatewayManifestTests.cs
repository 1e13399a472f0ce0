using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Observability.InferenceGateway;

/// <summary>
/// docker/kubernetes/inference-gateway/: the InferencePool and HTTPRoute are valid against their CRDs' schemas
/// (vendored, offline), the pieces name each other, and the endpoint picker's metric specs name series the real
/// server exports.
/// </summary>
public sealed partial class InferenceGatewayManifestTests
{
    private const string Folder = "docker/kubernetes/inference-gateway";

    [Fact]
    public void Every_resource_with_a_vendored_CRD_is_valid_against_its_schema_and_the_kustomization_lists_every_file()
    {
        var validated = new List<string>();
        foreach (var (file, resource) in Resources())
        {
            var apiVersion = (string)resource["apiVersion"]!;
            var kind = (string)resource["kind"]!;
            if (CrdSchemas.For(apiVersion, kind) is not { } schema)
            {
                continue;
            }

            var errors = SchemaValidation.Errors(schema, resource);
            Assert.True(errors.Count == 0, $"{file}: {kind} is not valid against its CRD:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
            validated.Add(kind);
        }

        Assert.Equal(["HTTPRoute", "InferencePool"], validated.Order());
        var kustomization = YamlJson.Documents(File.ReadAllText(RepositoryFiles.PathOf(Folder + "/kustomization.yaml"))).Single()!;
        var listed = kustomization["resources"]!.AsArray().Select(r => (string)r!).Order();
        var files = Directory.EnumerateFiles(RepositoryFiles.PathOf(Folder), "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order();
        Assert.Equal(files, listed);
    }

    [Fact]
    public void The_schemas_refuse_a_broken_pool_and_route()
    {
        var pool = Single("InferencePool").DeepClone();
        pool["spec"]!["endpointPickerRef"]!["failureMode"] = "Sometimes";
        pool["spec"]!.AsObject().Remove("selector");
        pool["spec"]!["targetPorts"]![0]!["number"] = 70000;
        pool["spec"]!["typo"] = true;
        var poolErrors = SchemaValidation.Errors(CrdSchemas.For("inference.networking.k8s.io/v1", "InferencePool")!, pool);
        Assert.Contains(poolErrors, e => e.Contains("failureMode", StringComparison.Ordinal));
        Assert.Contains(poolErrors, e => e.Contains("selector", StringComparison.Ordinal));
        Assert.Contains(poolErrors, e => e.Contains("targetPorts", StringComparison.Ordinal));
        Assert.Contains(poolErrors, e => e.Contains("typo", StringComparison.Ordinal));

        var route = Single("HTTPRoute").DeepClone();
        route["spec"]!["rules"]![0]!["matches"]![0]!["path"]!["type"] = "Glob";
        route["spec"]!["rules"]![0]!["timeouts"]!["request"] = "ten minutes";
        var routeErrors = SchemaValidation.Errors(CrdSchemas.For("gateway.networking.k8s.io/v1", "HTTPRoute")!, route);
        Assert.Contains(routeErrors, e => e.Contains("/type", StringComparison.Ordinal));
        Assert.Contains(routeErrors, e => e.Contains("timeouts", StringComparison.Ordinal));
    }

    [Fact]
    public void Pool_picker_route_and_server_deployment_name_each_other()
    {
        var pool = Single("InferencePool");
        var picker = Single("Deployment");
        var pickerService = Single("Service");
        var route = Single("HTTPRoute");
        var server = YamlJson.Documents(File.ReadAllText(RepositoryFiles.PathOf("docker/kubernetes/deployment.yaml"))).Single()!;

        // The pool selects the server's pods on their HTTP port.
        var podLabels = server["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        Assert.All(pool["spec"]!["selector"]!["matchLabels"]!.AsObject(), l => Assert.Equal((string?)l.Value, (string?)podLabels[l.Key]));
        var container = server["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var httpPort = container["ports"]!.AsArray().Single(p => (string?)p!["name"] == "http")!["containerPort"]!.GetValue<long>();
        Assert.Equal(httpPort, pool["spec"]!["targetPorts"]![0]!["number"]!.GetValue<long>());
        Assert.Contains("http://0.0.0.0:" + httpPort, Env(container, "Sovereign__HttpUrl"), StringComparison.Ordinal);

        // The picker scrapes /metrics without a key.
        Assert.Equal("true", Env(container, "Sovereign__Metrics__AllowAnonymous"));

        // The CRD's CEL rules that bear on this pool (not evaluated by the schema validator): a Service picker has a
        // port, and target port numbers are unique.
        Assert.NotNull(pool["spec"]!["endpointPickerRef"]!["port"]?["number"]);
        var targetPorts = pool["spec"]!["targetPorts"]!.AsArray().Select(p => p!["number"]!.GetValue<long>()).ToList();
        Assert.Equal(targetPorts.Count, targetPorts.Distinct().Count());

        // The pool's picker is this Service, on the picker's ext-proc port; the picker serves this pool.
        Assert.Equal((string?)pool["spec"]!["endpointPickerRef"]!["name"], (string?)pickerService["metadata"]!["name"]);
        var extProc = pickerService["spec"]!["ports"]!.AsArray().Single(p => p!["port"]!.GetValue<long>() == pool["spec"]!["endpointPickerRef"]!["port"]!["number"]!.GetValue<long>())!;
        var epp = picker["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Contains(epp["ports"]!.AsArray(), p => (string?)p!["name"] == (string?)extProc["targetPort"]);
        var args = epp["args"]!.AsArray().Select(a => (string)a!).ToList();
        Assert.Equal((string?)pool["metadata"]!["name"], args[args.IndexOf("--pool-name") + 1]);

        // The picker reads the ConfigMap's key through its mount.
        var configFile = args[args.IndexOf("--config-file") + 1];
        var mount = epp["volumeMounts"]!.AsArray().Single()!;
        Assert.StartsWith((string)mount["mountPath"]! + "/", configFile, StringComparison.Ordinal);
        Assert.NotNull(Single("ConfigMap")["data"]![configFile[((string)mount["mountPath"]!).Length..].TrimStart('/')]);

        // The route sends to the pool.
        var backend = route["spec"]!["rules"]![0]!["backendRefs"]![0]!;
        Assert.Equal(("InferencePool", (string?)pool["metadata"]!["name"]), ((string?)backend["kind"], (string?)backend["name"]));
    }

    [Fact]
    public async Task The_pickers_metric_specs_name_series_the_server_exports()
    {
        var config = PickerConfig();
        Assert.Equal("EndpointPickerConfig", (string?)config["kind"]);
        var plugins = config["plugins"]!.AsArray().Select(p => (Name: (string?)p!["name"] ?? (string)p["type"]!, Plugin: p)).ToList();
        var references = config["schedulingProfiles"]!.AsArray().SelectMany(p => p!["plugins"]!.AsArray()).Select(p => (string)p!["pluginRef"]!)
            .Concat(config["data"]!["sources"]!.AsArray().SelectMany(s => s!["extractors"]!.AsArray().Select(e => (string)e!["pluginRef"]!).Append((string)s["pluginRef"]!)));
        Assert.All(references, r => Assert.Contains(plugins, p => p.Name == r));

        var extractor = plugins.Single(p => (string?)p.Plugin["type"] == "core-metrics-extractor").Plugin["parameters"]!;
        var engine = extractor["engineConfigs"]!.AsArray().Single(e => (string?)e!["name"] == (string?)extractor["defaultEngine"])!;

        await using var server = await ServerHarness.StartAsync();
        var samples = ParsePrometheus(await server.Http.GetStringAsync("metrics"));
        foreach (var field in new[] { "queuedRequestsSpec", "runningRequestsSpec", "kvUsageSpec", "cacheInfoSpec" })
        {
            var match = MetricSpec().Match((string)engine[field]!);
            Assert.True(match.Success, $"{field} '{engine[field]}' is not a PromQL selector");
            var name = match.Groups["name"].Value;
            var labels = match.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('=')).ToDictionary(l => l[0].Trim(), l => l[1].Trim().Trim('"'));
            Assert.Contains(samples, s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value));
        }

        Assert.Equal("", (string?)engine["loraSpec"]);
        var info = samples.Single(s => s.Name == "sovereign_cache_config_info");
        Assert.Equal("1", info.Labels["block_size"]);
        Assert.True(int.Parse(info.Labels["num_gpu_blocks"], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    private static JsonNode PickerConfig()
    {
        var data = Single("ConfigMap")["data"]!.AsObject().Single();
        return YamlJson.Documents((string)data.Value!).Single()!;
    }

    private static string? Env(JsonNode container, string name) =>
        (string?)container["env"]!.AsArray().SingleOrDefault(e => (string?)e!["name"] == name)?["value"];

    private static JsonNode Single(string kind) => Resources().Single(r => (string?)r.Resource["kind"] == kind).Resource;

    private static IEnumerable<(string File, JsonNode Resource)> Resources() =>
        Directory.EnumerateFiles(RepositoryFiles.PathOf(Folder), "*.yaml")
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(f => YamlJson.Documents(File.ReadAllText(f)).OfType<JsonNode>().Select(d => (Path.GetFileName(f), d)));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?$")]
    private static partial Regex MetricSpec();
}
