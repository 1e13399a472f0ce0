using System.Globalization;
using System.Net.Http.Headers;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.TestSupport;

/// <summary>Keys, requests and a Prometheus text parser shared by the operations tests.</summary>
internal static class OperationsTestSupport
{
    public const string AliceKey = "sk-alice-0123456789";
    public const string BobKey = "sk-bob-9876543210";

    /// <summary>Settings for a server with two keys, "alice" and "bob", plus any extra per-key settings.</summary>
    public static Dictionary<string, string?> TwoKeys(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ApiKeys:0:Name"] = "alice",
            ["ApiKeys:0:Key"] = AliceKey,
            ["ApiKeys:1:Name"] = "bob",
            ["ApiKeys:1:Key"] = BobKey,
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static HttpRequestMessage Get(string path, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }

    /// <summary>A greedy request on the scripted model: "[/INST]" → " Hello world!" then EOS.</summary>
    public static GenerationRequest Hello(string? user, string model = "scripted") => new()
    {
        Model = model,
        PromptTokens = ScriptedModels.Prompt("[/INST]"),
        Sampling = new SamplingParams { Temperature = 0 },
        User = user,
    };

    /// <summary>A greedy request that loops " a b a b" until <paramref name="maxTokens"/>.</summary>
    public static GenerationRequest Loop(string? user, int maxTokens, int promptLength = 8) => new()
    {
        Model = "scripted",
        PromptTokens = ScriptedModels.LoopPrompt(promptLength),
        MaxTokens = maxTokens,
        Sampling = new SamplingParams { Temperature = 0 },
        User = user,
    };

    public static async Task<List<GenerationUpdate>> RunAsync(IAsyncEnumerable<GenerationUpdate> generation)
    {
        var updates = new List<GenerationUpdate>();
        await foreach (var update in generation)
        {
            updates.Add(update);
        }

        return updates;
    }

    /// <summary>Samples of a Prometheus text exposition: (name, labels) → value.</summary>
    public static List<(string Name, Dictionary<string, string> Labels, double Value)> ParsePrometheus(string text)
    {
        var samples = new List<(string, Dictionary<string, string>, double)>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var labels = new Dictionary<string, string>();
            string name;
            string rest;
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            if (brace >= 0)
            {
                name = line[..brace];
                var close = line.LastIndexOf('}');
                foreach (var pair in line[(brace + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                }

                rest = line[(close + 1)..].Trim();
            }
            else
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                name = line[..space];
                rest = line[(space + 1)..].Trim();
            }

            samples.Add((name, labels, double.Parse(rest.Split(' ')[0], CultureInfo.InvariantCulture)));
        }

        return samples;
    }

    /// <summary>The value of the one sample with this name and these labels (others may be present); fails when absent.</summary>
    public static double Sample(List<(string Name, Dictionary<string, string> Labels, double Value)> samples, string name, params (string Key, string Value)[] labels)
    {
        var matches = samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
        Assert.True(matches.Count == 1, $"expected one sample {name}{{{string.Join(",", labels.Select(l => $"{l.Key}={l.Value}"))}}}, found {matches.Count}");
        return matches[0].Value;
    }
}
