using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Security;

/// <summary>
/// Seeded fuzzing of every JSON endpoint: valid bodies mutated at the JSON level (hostile values, wrong types,
/// extra fields) and at the byte level (flips, cuts, insertions). Every answer must be below 500, with no
/// error-level log and nothing reaching the last-resort handler, and the server must still serve afterwards.
/// </summary>
public sealed class HttpFuzzTests
{
    private const int Seed = 20261202;
    private const int CasesPerEndpoint = 120;

    private static readonly (string Path, string Body)[] Seeds =
    [
        ("v1/chat/completions", """{"model":"scripted","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"max_tokens":4,"temperature":0.5,"stop":["x"],"n":1}"""),
        ("v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"weather?"}],"max_tokens":4,"stream":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"tool_choice":"auto"}"""),
        ("v1/completions", """{"model":"scripted","prompt":"hello","max_tokens":4,"logprobs":2,"seed":7,"logit_bias":{"5":-1}}"""),
        ("v1/completions", """{"model":"scripted","prompt":[1,2,3],"max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}"""),
        ("v1/embeddings", """{"model":"scripted","input":["a","b"],"encoding_format":"float"}"""),
        ("tokenize", """{"model":"scripted","content":"hello world","add_special":true}"""),
        ("detokenize", """{"model":"scripted","tokens":[1,2,3]}"""),
    ];

    private static readonly string[] Keys =
    [
        "model", "messages", "prompt", "max_tokens", "max_completion_tokens", "n", "temperature", "top_p", "top_k", "min_p", "stop",
        "seed", "logit_bias", "logprobs", "top_logprobs", "response_format", "tools", "tool_choice", "stream", "stream_options",
        "user", "presence_penalty", "frequency_penalty", "repeat_penalty", "ignore_eos", "echo", "suffix", "best_of", "input",
        "encoding_format", "dimensions", "content", "tokens", "add_special", "role", "name", "parallel_tool_calls",
    ];

    private static readonly string[] HostileValues =
    [
        "null", "true", "0", "-1", "-0", "1.5", "1e309", "-1e309", "9223372036854775808", "2147483648", "4294967295", "\"\"",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"", "[]", "{}", "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", "[-1]", "[2147483647]",
        "[0,-5,99999999]", "\"" + new string('a', 5000) + "\"", "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"$ref\":\"#\"}}}",
        "{\"type\":\"json_object\"}", "[{\"role\":\"tool\",\"content\":null}]", "[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":1}]}]",
        "[{\"type\":\"function\",\"function\":{\"name\":\"\"}}]", "{\"type\":\"function\",\"function\":{\"name\":\"missing\"}}",
        "\"required\"", "{\"1\":1e308}", "[\"\\ud83d\"]", "0.0000001", "100000", "\"scripted\"", "\"no-such-model\"",
    ];

    [Fact]
    public async Task Fuzzed_bodies_on_every_JSON_endpoint_never_get_a_5xx_or_an_error_log()
    {
        var settings = new Dictionary<string, string?> { ["Embeddings:0"] = "scripted", ["QueueCapacity"] = "256" };
        await using var server = await ServerHarness.StartAsync(settings);
        var random = new Random(Seed);
        var cases = new List<(string Path, byte[] Body)>();
        foreach (var (path, body) in Seeds)
        {
            for (var i = 0; i < CasesPerEndpoint; i++)
            {
                cases.Add((path, Mutate(body, random)));
            }
        }

        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(cases.Select(async c =>
        {
            await gate.WaitAsync();
            try
            {
                using var content = new ByteArrayContent(c.Body);
                content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
                using var response = await server.Http.PostAsync(c.Path, content);
                var text = await response.Content.ReadAsStringAsync();
                lock (statuses)
                {
                    statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
                    if ((int)response.StatusCode >= 500 || (!response.IsSuccessStatusCode && !text.Contains("\"error\"", StringComparison.Ordinal)))
                    {
                        failures.Add($"{c.Path} {Encoding.UTF8.GetString(c.Body)} -> {(int)response.StatusCode} {text}");
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
        Assert.Empty(server.Logs.Errors);
        Assert.Equal(0, server.Services.GetRequiredService<UnexpectedErrorCounter>().Count);

        // The mutations reached past validation too, and the server still serves.
        Assert.True(statuses.GetValueOrDefault(200) > 50, "statuses: " + string.Join(", ", statuses.Select(kv => $"{kv.Key}x{kv.Value}")));
        Assert.True(statuses.GetValueOrDefault(400) > 100, "statuses: " + string.Join(", ", statuses.Select(kv => $"{kv.Key}x{kv.Value}")));
        using var final = new StringContent(Seeds[0].Body, Encoding.UTF8, "application/json");
        using var ok = await server.Http.PostAsync(Seeds[0].Path, final);
        Assert.Equal(System.Net.HttpStatusCode.OK, ok.StatusCode);
    }

    private static byte[] Mutate(string seed, Random random)
    {
        switch (random.Next(4))
        {
            case 0:
            case 1:
                var node = JsonNode.Parse(seed)!.AsObject();
                var values = new List<string>();
                for (var edits = 1 + random.Next(3); edits > 0; edits--)
                {
                    var key = random.Next(3) == 0 && node.Count > 0 ? node.ElementAt(random.Next(node.Count)).Key : Keys[random.Next(Keys.Length)];
                    node[key] = $"@hostile{values.Count}@";
                    values.Add(HostileValues[random.Next(HostileValues.Length)]);
                }

                // Hostile values are spliced in as raw JSON text: a JSON library would refuse to write lone surrogates.
                var json = node.ToJsonString();
                for (var i = 0; i < values.Count; i++)
                {
                    json = json.Replace($"\"@hostile{i}@\"", values[i], StringComparison.Ordinal);
                }

                return Encoding.UTF8.GetBytes(json);
            case 2:
                var bytes = Encoding.UTF8.GetBytes(seed);
                for (var flips = 1 + random.Next(4); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                return bytes;
            default:
                var text = seed;
                return random.Next(2) == 0
                    ? Encoding.UTF8.GetBytes(text[..random.Next(text.Length)])
                    : Encoding.UTF8.GetBytes(text.Insert(random.Next(text.Length), new[] { "\\ud800", "{", "]", "\"", ",,", "\\", "\u0000", "1e99999" }[random.Next(8)]));
        }
    }
}
