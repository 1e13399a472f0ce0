using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SovereignInference.Engine.Observability;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Observability;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Security;

/// <summary>
/// GET /admin/usage (per-key limits and usage) and GET /admin/audit (the audit log's latest lines): admin key only
/// when keys are configured, never a key or its hash, and they follow what the server did.
/// </summary>
public sealed class AdminUsageAndAuditTests
{
    /// <summary>A chat that answers " Hello world!" (3 tokens).</summary>
    private const string HelloChat = """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"temperature":0}""";

    /// <summary>alice (limited, not admin) and bob (unlimited, admin), with the audit log in <paramref name="auditDir"/>.</summary>
    private static Dictionary<string, string?> Keys(string auditDir) => TwoKeys(
        ("ApiKeys:0:RequestsPerMinute", "1000"),
        ("ApiKeys:0:TokensPerMinute", "50000"),
        ("ApiKeys:0:MaxConcurrentStreams", "2"),
        ("ApiKeys:0:Priority", "3"),
        ("ApiKeys:1:Admin", "true"),
        ("Audit:Path", auditDir));

    [Fact]
    public async Task Usage_shows_each_keys_limits_and_what_it_used_to_an_admin_key_only_and_never_a_secret()
    {
        using var dir = new TempDirectory();
        await using var server = await ServerHarness.StartAsync(Keys(dir.Path));

        await AssertRefusedAsync(server, "admin/usage");
        var before = Key(await GetJsonAsync(server, "admin/usage", BobKey), "alice");
        Assert.Equal((0, 0, 0), (Usage(before, "requests"), Usage(before, "refused"), Usage(before, "tokens")));

        using var chat = await server.Http.SendAsync(Chat(AliceKey));
        var chatBody = await chat.Content.ReadAsStringAsync();
        Assert.True(chat.StatusCode == HttpStatusCode.OK, chatBody);
        var chatTokens = JsonDocument.Parse(chatBody).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt64();

        // The key's concurrency permit is returned once the response is complete, a moment after the client read it.
        JsonElement root = default;
        JsonElement alice = default;
        for (var i = 0; i < 100 && (i == 0 || Usage(alice, "in_flight") != 0); i++)
        {
            await Task.Delay(i == 0 ? 0 : 50);
            root = await GetJsonAsync(server, "admin/usage", BobKey);
            alice = Key(root, "alice");
        }

        var text = root.GetRawText();
        Assert.True(root.GetProperty("authentication").GetBoolean());
        Assert.Equal(60, root.GetProperty("window_seconds").GetInt32());
        Assert.Equal(["alice", "bob"], root.GetProperty("data").EnumerateArray().Select(k => k.GetProperty("name").GetString()));
        Assert.Equal(["admin", "limits", "name", "priority", "usage"], alice.EnumerateObject().Select(p => p.Name).Order());

        Assert.False(alice.GetProperty("admin").GetBoolean());
        Assert.Equal(3, alice.GetProperty("priority").GetInt32());
        var limits = alice.GetProperty("limits");
        Assert.Equal((1000, 50000, 2), (limits.GetProperty("requests_per_minute").GetInt32(), limits.GetProperty("tokens_per_minute").GetInt32(), limits.GetProperty("max_concurrent_streams").GetInt32()));
        Assert.Equal((1, 0, chatTokens, 0), (Usage(alice, "requests"), Usage(alice, "refused"), Usage(alice, "tokens"), Usage(alice, "in_flight")));
        Assert.True(chatTokens > 3);

        // The current window: the fixed window may have turned over since the chat, and the token bucket refills
        // continuously, so these read "at most what was used" (the totals above are exact).
        Assert.InRange(Usage(alice, "requests_this_minute"), 0, 1);
        Assert.InRange(Usage(alice, "tokens_this_minute"), 0, chatTokens);

        var bob = Key(root, "bob");
        Assert.True(bob.GetProperty("admin").GetBoolean());
        Assert.Equal(0, bob.GetProperty("limits").GetProperty("requests_per_minute").GetInt32());
        Assert.True(Usage(bob, "requests") >= 2, "bob's own /admin/usage calls are admitted requests");
        Assert.Equal(JsonValueKind.Null, bob.GetProperty("usage").GetProperty("requests_this_minute").ValueKind);
        Assert.Equal(JsonValueKind.Null, bob.GetProperty("usage").GetProperty("tokens_this_minute").ValueKind);

        // Neither a key nor its SHA-256 (hex or base64) is ever in the answer.
        foreach (var key in new[] { AliceKey, BobKey })
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(hash), text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToBase64String(hash), text, StringComparison.Ordinal);
        }

        Assert.Empty(server.Logs.Errors);
    }

    [Fact]
    public async Task A_refused_request_counts_as_refused_and_in_flight_shows_a_running_stream()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys(("ApiKeys:0:RequestsPerMinute", "1"), ("ApiKeys:1:Admin", "true")));

        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(Get("v1/models", AliceKey))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await server.Http.SendAsync(Get("v1/models", AliceKey))).StatusCode);

        var alice = Key(await GetJsonAsync(server, "admin/usage", BobKey), "alice");
        Assert.Equal((1, 1), (Usage(alice, "requests"), Usage(alice, "refused")));

        // While bob's own request is being answered, it is in flight.
        Assert.Equal(1, Usage(Key(await GetJsonAsync(server, "admin/usage", BobKey), "bob"), "in_flight"));
    }

    [Fact]
    public async Task Audit_returns_the_latest_lines_newest_last_to_an_admin_key_only()
    {
        using var dir = new TempDirectory();
        await using var server = await ServerHarness.StartAsync(Keys(dir.Path));
        await AssertRefusedAsync(server, "admin/audit");

        var empty = await GetJsonAsync(server, "admin/audit", BobKey);
        Assert.True(empty.GetProperty("enabled").GetBoolean());
        Assert.Equal(0, empty.GetProperty("data").GetArrayLength());

        using (var chat = await server.Http.SendAsync(Chat(AliceKey)))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        for (var tokens = 1; tokens <= 3; tokens++)
        {
            await RunAsync(server.Engine.GenerateAsync(Loop("bob", maxTokens: tokens)));
        }

        var root = await GetJsonAsync(server, "admin/audit", BobKey);
        Assert.Equal(200, root.GetProperty("capacity").GetInt32());
        var lines = root.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal(("alice", "scripted", "ok", "stop", 3), (lines[0].GetProperty("key").GetString(), lines[0].GetProperty("model").GetString(), lines[0].GetProperty("status").GetString(), lines[0].GetProperty("finish_reason").GetString(), lines[0].GetProperty("completion_tokens").GetInt32()));

        // The same lines as the file, in the same order.
        var file = Assert.Single(Directory.GetFiles(dir.Path, "audit-*.jsonl"));
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            var written = (await new StreamReader(stream).ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(written, lines.Select(l => l.GetRawText()));
        }

        var latest = await GetJsonAsync(server, "admin/audit?limit=2", BobKey);
        Assert.Equal([2, 3], latest.GetProperty("data").EnumerateArray().Select(l => l.GetProperty("completion_tokens").GetInt32()));

        foreach (var bad in new[] { "0", "-1", "abc", "1.5", "" })
        {
            using var response = await server.Http.SendAsync(Get($"admin/audit?limit={bad}", BobKey));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("limit", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Empty(server.Logs.Errors);
    }

    [Fact]
    public async Task Only_the_latest_200_lines_are_kept_in_memory()
    {
        using var dir = new TempDirectory();
        await using var server = await ServerHarness.StartAsync(Keys(dir.Path));
        var audit = server.Services.GetRequiredServiceOf<AuditLog>();
        for (var i = 1; i <= 250; i++)
        {
            audit.Write(new GenerationRecord(DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1), new GenerationRequest { Model = "scripted", User = "alice" }, "scripted", null, "ok", null, i, 0, 0, null, null));
        }

        var lines = (await GetJsonAsync(server, "admin/audit?limit=100000", BobKey)).GetProperty("data").EnumerateArray().ToList();

        Assert.Equal(Enumerable.Range(51, 200), lines.Select(l => l.GetProperty("prompt_tokens").GetInt32()));
    }

    [Fact]
    public async Task Without_keys_the_routes_are_open_like_every_other_and_say_so()
    {
        // No key configured: authentication is off (loopback only), as for POST /models/load.
        await using var server = await ServerHarness.StartAsync();

        var usage = await GetJsonAsync(server, "admin/usage", null);
        Assert.False(usage.GetProperty("authentication").GetBoolean());
        Assert.Equal(0, usage.GetProperty("data").GetArrayLength());

        var audit = await GetJsonAsync(server, "admin/audit", null);
        Assert.False(audit.GetProperty("enabled").GetBoolean());
        Assert.Equal(0, audit.GetProperty("data").GetArrayLength());
    }

    private static async Task AssertRefusedAsync(ServerHarness server, string path)
    {
        using (var anonymous = await server.Http.SendAsync(Get(path, null)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("invalid_api_key", await ErrorBodies.ErrorCodeAsync(anonymous));
        }

        using var notAdmin = await server.Http.SendAsync(Get(path, AliceKey));
        Assert.Equal(HttpStatusCode.Forbidden, notAdmin.StatusCode);
        Assert.Equal("insufficient_permissions", await ErrorBodies.ErrorCodeAsync(notAdmin));
    }

    private static async Task<JsonElement> GetJsonAsync(ServerHarness server, string path, string? key)
    {
        using var response = await server.Http.SendAsync(Get(path, key));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static JsonElement Key(JsonElement usage, string name) =>
        usage.GetProperty("data").EnumerateArray().Single(k => k.GetProperty("name").GetString() == name);

    private static long Usage(JsonElement key, string field) => key.GetProperty("usage").GetProperty(field).GetInt64();

    private static HttpRequestMessage Chat(string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(HelloChat, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }
}
