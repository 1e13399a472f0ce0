using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using SovereignInference.Server.Http.BrowserConsole;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.BrowserConsole;

/// <summary>
/// The console's security over plain HTTP: every file carries the strict policy, the files hold no inline code and
/// nothing from another origin, they are open while the APIs they call still need a key, and the console can be
/// turned off (and is off by default on a network address).
/// </summary>
public sealed partial class ConsoleSecurityTests
{
    private static readonly ConsoleFiles Files = ConsoleFiles.Load();

    [Fact]
    public async Task Every_console_file_is_served_with_the_strict_policy_and_its_content_type()
    {
        await using var server = await ServerHarness.StartAsync();

        foreach (var file in Files.Files.Values)
        {
            var path = file.Name == "index.html" ? "/" : ConsoleEndpoints.AssetPrefix + file.Name;
            using var response = await server.Http.GetAsync(path.TrimStart('/'));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(file.Content, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(file.ContentType, response.Content.Headers.ContentType!.ToString());
            var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
            Assert.Equal(ConsoleEndpoints.ContentSecurityPolicy, csp);
            Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        }

        Assert.Contains("console.js", Files.Files.Keys);
        Assert.Contains("console.css", Files.Files.Keys);
    }

    [Fact]
    public async Task A_file_the_browser_already_has_is_answered_304_by_its_etag()
    {
        await using var server = await ServerHarness.StartAsync();
        using var first = await server.Http.GetAsync("console/console.js");
        var etag = first.Headers.ETag!;

        using var again = new HttpRequestMessage(HttpMethod.Get, "console/console.js");
        again.Headers.IfNoneMatch.Add(etag);
        using var response = await server.Http.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public void The_files_hold_no_inline_script_or_style_and_load_nothing_from_another_origin()
    {
        var html = Encoding.UTF8.GetString(Files.Files["index.html"].Content);
        foreach (Match script in ScriptTag().Matches(html))
        {
            Assert.Matches("src=\"/console/[a-z]+\\.js\"", script.Value);
            Assert.Contains(script.Value + "</script>", html, StringComparison.Ordinal);
        }

        Assert.DoesNotMatch("<style", html);
        Assert.DoesNotMatch(@"\sstyle\s*=", html);
        Assert.DoesNotMatch(@"\son[a-z]+\s*=", html);
        Assert.DoesNotMatch("javascript:", html);

        foreach (var file in Files.Files.Values.Where(f => f.Name != "favicon.svg"))
        {
            var text = Encoding.UTF8.GetString(file.Content);
            Assert.False(ExternalUrl().IsMatch(text), $"{file.Name} names another origin: {ExternalUrl().Match(text).Value}");
            Assert.DoesNotContain("eval(", text, StringComparison.Ordinal);
            Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
            Assert.DoesNotContain("localStorage", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_console_is_open_but_the_APIs_it_calls_still_need_a_key()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys());
        using var anonymous = new HttpClient { BaseAddress = server.HttpBase };

        foreach (var path in new[] { "", "console/console.js", "console/console.css", "console/favicon.svg" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/{path}: {(int)response.StatusCode}");
        }

        foreach (var path in new[] { "v1/models", "metrics", "console/no-such-file.js", "console/" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"/{path}: {(int)response.StatusCode}");
        }

        using var post = await anonymous.PostAsync("apply-template", new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
        using var withKey = await anonymous.SendAsync(Get("v1/models", AliceKey));
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
    }

    [Fact]
    public async Task A_console_turned_off_is_not_served()
    {
        await using (var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Console:Enabled"] = "false" }))
        {
            using var root = await server.Http.GetAsync("");
            Assert.Equal(HttpStatusCode.NotFound, root.StatusCode);
            using var script = await server.Http.GetAsync("console/console.js");
            Assert.Equal(HttpStatusCode.NotFound, script.StatusCode);
            Assert.DoesNotContain("<html", await root.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using (var keyed = await ServerHarness.StartAsync(TwoKeys(("Console:Enabled", "false"))))
        {
            using var root = await keyed.Http.GetAsync("");
            Assert.Equal(HttpStatusCode.Unauthorized, root.StatusCode);
        }
    }

    [Theory]
    [InlineData(null, "http://127.0.0.1:8080", true)]
    [InlineData(null, "http://localhost:8080", true)]
    [InlineData(null, "http://[::1]:8080", true)]
    [InlineData(null, "http://0.0.0.0:8080", false)]
    [InlineData(null, "http://192.168.1.10:8080", false)]
    [InlineData(true, "http://0.0.0.0:8080", true)]
    [InlineData(false, "http://127.0.0.1:8080", false)]
    public void By_default_the_console_is_served_only_on_loopback(bool? enabled, string httpUrl, bool served) =>
        Assert.Equal(served, new ConsoleOptions { Enabled = enabled }.IsServedOn(httpUrl));

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("true", HttpStatusCode.OK)]
    public async Task A_server_on_every_interface_serves_the_console_only_when_enabled(string? enabled, HttpStatusCode expected)
    {
        var settings = TwoKeys(("HttpUrl", "http://0.0.0.0:0"), ("AllowedHosts:0", "*"));
        if (enabled is not null)
        {
            settings["Console:Enabled"] = enabled;
        }

        await using var server = await ServerHarness.StartAsync(settings);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpBase.Port}/") };

        using var response = await client.GetAsync("");

        Assert.Equal(expected, response.StatusCode);
    }

    [GeneratedRegex("<script[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex(@"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalUrl();
}
