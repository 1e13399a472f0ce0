using System.Text.RegularExpressions;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using SovereignInference.Gguf;
using SovereignInference.Tests.Server.Http.OpenAi;
using SovereignInference.Tests.TestSupport;
using static Microsoft.Playwright.Assertions;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.BrowserConsole;

/// <summary>
/// The console at / in a real headless Chromium against the real server (llama.cpp on generated models): it loads
/// cleanly under its Content-Security-Policy, streams a chat, shows the exact prompt and the request as code, draws
/// live charts under load, passes axe and works from the keyboard. Screenshots go to artifacts/test-results/console.
/// </summary>
public sealed class ConsolePageTests(ConsoleBrowser browser) : IClassFixture<ConsoleBrowser>
{
    private static Dictionary<string, string?> DemoAndScripted() =>
        ServerHarness.ModelSettings(("sovereign-demo", TestModels.Demo().Path), ("scripted", ScriptedModels.Engine.Path));

    [Fact]
    public async Task The_page_loads_both_sections_with_no_console_error_and_no_CSP_violation()
    {
        await using var server = await ServerHarness.StartAsync(DemoAndScripted());
        await using var console = await browser.OpenAsync(server.HttpBase);

        await Expect(console.Page.Locator("#model option")).ToHaveCountAsync(2);
        await console.Page.ClickAsync("#tab-dashboard");
        await Expect(console.Page.Locator("#models-table tbody tr")).ToHaveCountAsync(2);
        await Expect(console.Page.Locator("#value-requests")).ToContainTextAsync("running");
        await console.Page.ClickAsync("#tab-chat");
        await console.Page.ClickAsync("#show-code");
        await console.Page.ClickAsync("#show-prompt");
        await Expect(console.Page.Locator("#prompt-text")).Not.ToBeEmptyAsync();

        Assert.Empty(await console.CspViolationsAsync());
        Assert.True(console.Problems.Count == 0, string.Join(Environment.NewLine, console.Problems));
        Assert.Empty(server.Logs.Errors);

        // Everything the page loaded or called came from this server.
        Assert.Contains(server.HttpBase + "console/console.js", console.Requests);
        Assert.Contains(server.HttpBase + "metrics", console.Requests);
        Assert.All(console.Requests, url => Assert.StartsWith(server.HttpBase.ToString(), url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_metric_names_the_dashboard_reads_are_the_ones_the_server_exports()
    {
        await using var server = await ServerHarness.StartAsync(DemoAndScripted());
        await using var console = await browser.OpenAsync(server.HttpBase);
        await console.Page.FillAsync("#prompt", "Say hello");
        await console.Page.ClickAsync("#send");
        await Expect(console.Page.Locator(".message.assistant").Last).ToHaveAttributeAsync("data-state", "done");

        var names = await console.Page.EvaluateAsync<Dictionary<string, string>>("async () => (await import('/console/dashboard.js')).METRICS");
        var exposition = await server.Http.GetStringAsync("metrics");
        for (var i = 0; i < 50 && !exposition.Contains("sovereign_time_to_first_token_seconds_sum", StringComparison.Ordinal); i++)
        {
            // The request's measurements are recorded when the engine call ends, which may trail the stream's last byte.
            await Task.Delay(100);
            exposition = await server.Http.GetStringAsync("metrics");
        }

        // Loads and evictions come from a model manager this server does not have yet; the dashboard shows "–" without them.
        foreach (var (use, name) in names.Where(n => n.Key is not "loads" and not "evictions"))
        {
            Assert.True(Regex.IsMatch(exposition, $"^{Regex.Escape(name)}(_bucket)?[{{ ]", RegexOptions.Multiline), $"{use}: {name} is not in /metrics");
        }

        // The page's parser and quantile agree with the exposition: the TTFT of one request lies in its bucket.
        var ttft = await console.Page.EvaluateAsync<double?>("""
            async (text) => {
              const p = await import('/console/prometheus.js');
              const samples = p.parsePrometheus(text);
              return p.quantileBetween(null, p.buckets(samples, 'sovereign_time_to_first_token_seconds'), 0.5);
            }
            """, exposition);
        var sum = double.Parse(Regex.Match(exposition, @"^sovereign_time_to_first_token_seconds_sum\{[^}]*\} (\S+)", RegexOptions.Multiline).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotNull(ttft);
        var bounds = new[] { 0, 0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640 };
        var upper = bounds.First(b => b >= sum);
        var lower = bounds.Last(b => b < upper);
        Assert.InRange(ttft.Value, lower, upper);
    }

    [Fact]
    public async Task The_policy_is_enforced_so_inline_code_would_be_reported()
    {
        await using var server = await ServerHarness.StartAsync(DemoAndScripted());
        await using var console = await browser.OpenAsync(server.HttpBase);

        // What an injected <style> or inline script would meet: refused by the policy and seen by the recorder.
        await console.Page.EvaluateAsync("""
            () => {
              const style = document.createElement("style");
              style.textContent = "body { background: red; }";
              document.head.append(style);
              const script = document.createElement("script");
              script.textContent = "window.__inlineRan = true;";
              document.head.append(script);
            }
            """);

        await Expect(console.Page.Locator("body")).Not.ToHaveCSSAsync("background-color", "rgb(255, 0, 0)");
        Assert.Null(await console.Page.EvaluateAsync<bool?>("() => window.__inlineRan ?? null"));
        var violations = await console.CspViolationsAsync();
        Assert.Contains(violations, v => v.StartsWith("style-src", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("script-src", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_chat_streams_the_demo_models_reply_and_shows_the_exact_prompt_and_the_request_as_code()
    {
        await using var server = await ServerHarness.StartAsync(DemoAndScripted());
        await using var console = await browser.OpenAsync(server.HttpBase);
        var page = console.Page;
        await page.SelectOptionAsync("#model", "sovereign-demo");
        await page.FillAsync("#system-prompt", "You are terse.");
        await page.FillAsync("#temperature", "0");
        await page.FillAsync("#top_k", "40");
        await page.FillAsync("#stop", "END");
        await page.FillAsync("#prompt", "Say hello");

        var request = page.WaitForRequestAsync("**/v1/chat/completions");
        await page.ClickAsync("#send");
        var sent = await request;
        var reply = page.Locator(".message.assistant").Last;
        await Expect(reply).ToHaveAttributeAsync("data-state", "done");

        await Expect(reply.Locator(".content")).ToHaveTextAsync(TestModelGenerator.DemoReply);
        var body = sent.PostDataJSON()!.Value;
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.Equal("sovereign-demo", body.GetProperty("model").GetString());
        Assert.Equal(0, body.GetProperty("temperature").GetDouble());
        Assert.Equal(40, body.GetProperty("top_k").GetInt32());
        Assert.Equal("END", body.GetProperty("stop")[0].GetString());
        Assert.Equal("system", body.GetProperty("messages")[0].GetProperty("role").GetString());
        var response = await sent.ResponseAsync();
        Assert.StartsWith("text/event-stream", (await response!.AllHeadersAsync())["content-type"], StringComparison.Ordinal);
        // Streamed: the reply grew over many chunks (one per token), not in one piece.
        Assert.True(int.Parse(await reply.GetAttributeAsync("data-chunks") ?? "0", System.Globalization.CultureInfo.InvariantCulture) >= 5);
        await Expect(reply.Locator(".meta")).ToContainTextAsync("finish: stop");

        // The exact prompt of the conversation so far, from /apply-template.
        await page.FillAsync("#prompt", "And again");
        await page.ClickAsync("#show-prompt");
        var prompt = page.Locator("#prompt-text");
        await Expect(prompt).ToContainTextAsync("[INST]");
        await Expect(prompt).ToContainTextAsync("Say hello");
        await Expect(prompt).ToContainTextAsync(TestModelGenerator.DemoReply);
        await Expect(prompt).ToContainTextAsync("And again");
        await Expect(page.Locator("#prompt-format")).ToContainTextAsync("Chat format");

        // The same request as curl, then Python and JavaScript (tabs switched from the keyboard).
        await page.ClickAsync("#show-code");
        var code = page.Locator("#code-text");
        await Expect(code).ToContainTextAsync($"{server.HttpBase.ToString().TrimEnd('/')}/v1/chat/completions");
        await Expect(code).ToContainTextAsync("\"model\": \"sovereign-demo\"");
        await Expect(code).ToContainTextAsync("$SOVEREIGN_API_KEY");

        // The curl body, posted as it stands, is a request the server streams the demo reply for.
        var curl = await code.TextContentAsync() ?? "";
        var curlBody = curl.Split("<<'JSON'\n")[1].Split("\nJSON")[0];
        using (var replay = await server.Http.PostAsync("v1/chat/completions", new StringContent(curlBody, System.Text.Encoding.UTF8, "application/json")))
        {
            var events = await replay.Content.ReadAsStringAsync();
            Assert.True(replay.IsSuccessStatusCode, events);
            Assert.Contains("text/event-stream", replay.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            Assert.Contains(" locally", events, StringComparison.Ordinal);
            Assert.EndsWith("data: [DONE]", events.TrimEnd(), StringComparison.Ordinal);
        }

        await page.FocusAsync("#code-tab-curl");
        await page.Keyboard.PressAsync("ArrowRight");
        await Expect(page.Locator("#code-tab-python")).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(code).ToContainTextAsync("from openai import OpenAI");
        await Expect(code).ToContainTextAsync("extra_body=");
        await page.Keyboard.PressAsync("ArrowRight");
        await Expect(code).ToContainTextAsync("import OpenAI from \"openai\"");
        await Expect(code).Not.ToContainTextAsync("response_format");
        await page.CheckAsync("#json-mode");
        await Expect(code).ToContainTextAsync("\"response_format\": {");
        await console.ScreenshotAsync("chat");

        Assert.Empty(await console.CspViolationsAsync());
        Assert.True(console.Problems.Count == 0, string.Join(Environment.NewLine, console.Problems));
    }

    [Fact]
    public async Task Stop_ends_a_stream_and_the_server_frees_its_slot()
    {
        // A chat model that never stops on its own: "[/INST]" → " a b a b …" until the context is full.
        var loop = TestModels.Scripted(new ScriptedModelSpec { Name = "sovereign-console-loop", Transitions = ScriptedModelSpec.Chain("[/INST]", "▁a", "▁b", "▁a") });
        var settings = ServerHarness.ModelSettings(("loop", loop.Path));
        settings["Parallel"] = "1";
        settings["CtxSize"] = "8192";
        await using var server = await ServerHarness.StartAsync(settings);
        await using var console = await browser.OpenAsync(server.HttpBase);
        var page = console.Page;
        await page.FillAsync("#prompt", "Go");
        await page.ClickAsync("#send");

        var reply = page.Locator(".message.assistant").Last;
        await Expect(reply).ToHaveAttributeAsync("data-chunks", new Regex(@"^([2-9]\d|\d{3,})$"));
        await page.ClickAsync("#stop-generation");

        await Expect(reply).ToHaveAttributeAsync("data-state", "done");
        await Expect(reply.Locator(".meta")).ToHaveTextAsync("stopped");
        await Expect(page.Locator("#chat-status")).ToHaveTextAsync("Stopped.");
        await Expect(page.Locator("#send")).ToBeEnabledAsync();
        await Expect(page.Locator("#stop-generation")).ToBeDisabledAsync();
        var running = new Regex(@"^sovereign_num_requests_running\{model=""loop""\} (\S+)$", RegexOptions.Multiline);
        for (var i = 0; i < 300 && running.Match(await server.Http.GetStringAsync("metrics")).Groups[1].Value != "0"; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal("0", running.Match(await server.Http.GetStringAsync("metrics")).Groups[1].Value);
        Assert.True(console.Problems.Count == 0, string.Join(Environment.NewLine, console.Problems));
    }

    [Fact]
    public async Task Reasoning_is_shown_folded_and_tool_calls_with_their_arguments()
    {
        await using var server = await ReasoningAndArgsToolCallTests.StartAsync();
        await using var console = await browser.OpenAsync(server.HttpBase);
        var page = console.Page;
        await page.FillAsync("#tools", ReasoningAndArgsToolCallTests.Tools);
        await page.FillAsync("#temperature", "0");
        await page.FillAsync("#prompt", "Weather?");
        await page.ClickAsync("#send");

        var reply = page.Locator(".message.assistant").Last;
        await Expect(reply).ToHaveAttributeAsync("data-state", "done");
        var reasoning = reply.Locator("details.reasoning-block");
        await Expect(reasoning).ToBeVisibleAsync();
        Assert.Null(await reasoning.GetAttributeAsync("open"));
        await Expect(reasoning.Locator(".reasoning")).Not.ToBeVisibleAsync();
        await reasoning.Locator("summary").ClickAsync();
        await Expect(reasoning.Locator(".reasoning")).ToHaveTextAsync("need weather");
        await Expect(reply.Locator(".tool-call .name")).ToHaveTextAsync("get_weather");
        await Expect(reply.Locator(".tool-call pre")).ToContainTextAsync("\"city\": \"Paris\"");
        await Expect(reply.Locator(".meta")).ToContainTextAsync("finish: tool_calls");
        await console.ScreenshotAsync("chat-reasoning-tool-call");

        Assert.True(console.Problems.Count == 0, string.Join(Environment.NewLine, console.Problems));
    }

    [Fact]
    public async Task The_dashboard_shows_the_models_and_charts_that_move_while_a_load_runs()
    {
        await using var server = await ServerHarness.StartAsync(DemoAndScripted());
        await using var console = await browser.OpenAsync(server.HttpBase);
        var page = console.Page;
        await page.ClickAsync("#tab-dashboard");
        var row = page.Locator("#models-table tbody tr[data-model='scripted']");
        await Expect(row).ToContainTextAsync("loaded");
        await Expect(row).ToContainTextAsync("F16");
        await Expect(page.Locator("#models-table tbody tr[data-model='sovereign-demo']")).ToBeVisibleAsync();
        await Expect(page.Locator("#value-tps")).ToHaveTextAsync("0.0");
        var idleChart = await ChartPixelsAsync(page, "#chart-tps canvas");

        // Load: three clients, each streaming the scripted model's "a b a b" loop (400 tokens) again and again.
        using var stop = new CancellationTokenSource();
        var prompt = string.Join(',', ScriptedModels.LoopPrompt(32));
        var load = Enumerable.Range(0, 3).Select(_ => StreamUntilCancelledAsync(server, $$"""{"model":"scripted","prompt":[{{prompt}}],"max_tokens":400,"temperature":0,"stream":true}""", stop.Token)).ToList();
        try
        {
            await Expect(page.Locator("#value-tps")).ToHaveAttributeAsync("data-value", new Regex(@"^[1-9]"), new() { Timeout = 30_000 });
            await Expect(page.Locator("#value-requests")).ToContainTextAsync(new Regex(@"[1-9]\d* running"));
            await Expect(page.Locator("#value-itl")).ToContainTextAsync(new Regex(@"^\d+ / \d+$"));
            await Expect(page.Locator("#value-kv")).ToContainTextAsync(new Regex(@"^(?!0\.0 )\d+\.\d %$"));
            Assert.NotEqual(idleChart, await ChartPixelsAsync(page, "#chart-tps canvas"));

            // TTFT is observed when a request finishes (400 tokens each); then let the charts draw a while for the screenshot.
            await Expect(page.Locator("#value-ttft")).ToContainTextAsync(new Regex(@"^\d+ / \d+$"), new() { Timeout = 60_000 });
            await page.WaitForFunctionAsync("() => Number(document.querySelector('#chart-tps canvas').dataset.points) >= 20", null, new() { Timeout = 60_000 });
            await console.ScreenshotAsync("dashboard");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        await Expect(page.Locator("#value-requests")).ToHaveTextAsync("0 queued · 0 running", new() { Timeout = 30_000 });
        Assert.True(console.Problems.Count == 0, string.Join(Environment.NewLine, console.Problems));
    }

    /// <summary>
    /// The page's side of the model manager's fields (status, memory estimate, worker pid, loads/evictions,
    /// POST /models/load|unload): /v1/models and /models/load are answered by the browser's request routing here (a
    /// worker pid and evictions this in-process server cannot show), the rest by the real server — the memory budget
    /// line comes from its real /metrics (sovereign_memory_budget / sovereign_memory_in_use per device).
    /// </summary>
    [Fact]
    public async Task The_dashboard_shows_a_model_managers_fields_when_the_server_reports_them()
    {
        var settings = DemoAndScripted();
        settings["MemoryBudget"] = "8G";
        await using var server = await ServerHarness.StartAsync(settings);
        await using var console = await browser.OpenAsync(server.HttpBase);
        var page = console.Page;
        const string Models = """
            {"object":"list","data":[
              {"id":"scripted","object":"model","owned_by":"sovereign","status":"loaded","memory_estimate_bytes":2147483648,"pid":4242,"loads":3,"evictions":1,"context_length":4096,"quantization":"Q8_0"},
              {"id":"sovereign-demo","object":"model","owned_by":"sovereign","status":"unloaded","memory_estimate_bytes":1073741824,"loads":1,"evictions":1}]}
            """;
        await page.RouteAsync("**/v1/models", route => route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = Models }));
        var posted = new TaskCompletionSource<string>();
        await page.RouteAsync("**/models/load", async route =>
        {
            posted.TrySetResult(route.Request.PostData ?? "");
            await route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = "{}" });
        });

        await page.ClickAsync("#tab-dashboard");
        var loaded = page.Locator("#models-table tbody tr[data-model='scripted']");
        await Expect(loaded).ToContainTextAsync("loaded");
        await Expect(loaded).ToContainTextAsync("2.0 GiB");
        await Expect(loaded).ToContainTextAsync("4242");
        await Expect(loaded).ToContainTextAsync("3 / 1");
        await Expect(loaded.GetByRole(AriaRole.Button, new() { Name = "Unload scripted" })).ToBeVisibleAsync();
        await Expect(page.Locator("#memory-budget")).ToContainTextAsync("of a 8.0 GiB budget in use by loaded models");
        using (var http = new HttpClient())
        {
            var metrics = await http.GetStringAsync(new Uri(server.HttpBase, "/metrics"));
            var inUse = metrics.Split('\n').Single(l => l.StartsWith("sovereign_memory_in_use{device=\"ram\"}", StringComparison.Ordinal)).Split(' ')[1];
            Assert.True(double.Parse(inUse, System.Globalization.CultureInfo.InvariantCulture) > 0, metrics);
            await Expect(page.Locator("#memory-budget [role='meter']")).ToHaveAttributeAsync("aria-valuenow", inUse);
            await Expect(page.Locator("#memory-budget [role='meter']")).ToHaveAttributeAsync("aria-valuemax", (8L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Expect(page.Locator("#memory-budget")).ToContainTextAsync("ram: ");
        }
        await Expect(page.Locator("#models-table tbody tr[data-model='sovereign-demo'] .status")).ToHaveTextAsync("unloaded");
        await console.ScreenshotAsync("dashboard-model-manager");

        await page.ClickAsync("button[aria-label='Load sovereign-demo']");
        Assert.Equal("""{"model":"sovereign-demo"}""", await posted.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await Expect(page.Locator("#models-note")).ToContainTextAsync("sovereign-demo: load requested.");

        // The chat's model picker shows the same statuses.
        await page.ClickAsync("#tab-chat");
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("body[data-ready='true']");
        await Expect(page.Locator("#model option[value='sovereign-demo']")).ToHaveTextAsync("sovereign-demo (unloaded)");
    }

    [Fact]
    public async Task Axe_finds_no_serious_violation_on_either_section()
    {
        await using var server = await ServerHarness.StartAsync(DemoAndScripted());
        await using var console = await browser.OpenAsync(server.HttpBase);
        var page = console.Page;
        await page.FillAsync("#prompt", "Say hello");
        await page.ClickAsync("#send");
        await Expect(page.Locator(".message.assistant").Last).ToHaveAttributeAsync("data-state", "done");
        await page.ClickAsync("#show-prompt");
        await page.ClickAsync("#show-code");
        await Expect(page.Locator("#prompt-text")).ToContainTextAsync("[INST]");
        var chat = await page.RunAxe();

        await page.ClickAsync("#tab-dashboard");
        await Expect(page.Locator("#models-table tbody tr")).ToHaveCountAsync(2);
        var dashboard = await page.RunAxe();

        var serious = chat.Violations.Concat(dashboard.Violations).Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, string.Join(Environment.NewLine, serious.Select(Describe)));
        Assert.NotEmpty(chat.Passes);
    }

    [Fact]
    public async Task Keyboard_alone_reaches_the_sections_the_key_and_sends_a_message()
    {
        await using var server = await ServerHarness.StartAsync(DemoAndScripted());
        await using var console = await browser.OpenAsync(server.HttpBase);
        var page = console.Page;

        // Tab from the top: the skip link, then the section tabs (one tab stop), then the key field.
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("tab-chat", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.Equal("tab-dashboard", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        await Expect(page.Locator("#panel-dashboard")).ToBeVisibleAsync();
        await Expect(page.Locator("#panel-chat")).ToBeHiddenAsync();
        await page.Keyboard.PressAsync("Home");
        await Expect(page.Locator("#panel-chat")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("api-key", await page.EvaluateAsync<string>("() => document.activeElement.id"));

        await page.FocusAsync("#prompt");
        await page.Keyboard.TypeAsync("Say hello");
        await page.Keyboard.PressAsync("Control+Enter");
        await Expect(page.Locator(".message.assistant .content").Last).ToHaveTextAsync(TestModelGenerator.DemoReply);

        // Every form control has a label a screen reader announces.
        var unlabeled = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll("input, select, textarea, button")]
              .filter((e) => !(e.labels?.length || e.getAttribute("aria-label") || e.textContent.trim()))
              .map((e) => e.id || e.outerHTML)
            """);
        Assert.Empty(unlabeled);
    }

    [Fact]
    public async Task With_keys_the_page_asks_for_one_keeps_it_in_session_storage_and_then_uses_the_APIs()
    {
        await using var server = await ServerHarness.StartAsync(DemoAndScripted().Concat(TwoKeys()).ToDictionary());
        await using var console = await browser.OpenAsync(server.HttpBase);
        var page = console.Page;

        // Anonymous: the models come from the open readiness probe; the APIs answer 401.
        await Expect(page.Locator("#model-status")).ToContainTextAsync("needs an API key");
        await Expect(page.Locator("#model option")).ToHaveCountAsync(2);
        await page.ClickAsync("#tab-dashboard");
        await Expect(page.Locator("#metrics-note")).ToContainTextAsync("need an API key");
        await Expect(page.Locator("#models-table tbody tr[data-model='scripted']")).ToContainTextAsync("loaded");
        await console.ScreenshotAsync("dashboard-anonymous");

        await page.FillAsync("#api-key", AliceKey);
        await page.PressAsync("#api-key", "Enter");
        await Expect(page.Locator("#key-status")).ToHaveTextAsync("Key set for this tab.");
        Assert.Equal(AliceKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('sovereign.apiKey')"));
        Assert.Equal("", await page.InputValueAsync("#api-key"));
        await Expect(page.Locator("#metrics-note")).ToBeEmptyAsync();
        await Expect(page.Locator("#models-table tbody tr[data-model='scripted']")).ToContainTextAsync("F16");

        // A reload keeps the key (same tab); a chat goes through with it.
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("body[data-ready='true']");
        await Expect(page.Locator("#key-status")).ToHaveTextAsync("Key set for this tab.");
        await page.ClickAsync("#tab-chat");
        await page.SelectOptionAsync("#model", "sovereign-demo");
        await page.FillAsync("#prompt", "Say hello");
        await page.ClickAsync("#send");
        await Expect(page.Locator(".message.assistant .content").Last).ToHaveTextAsync(TestModelGenerator.DemoReply);

        // Forgetting the key drops it from storage.
        await page.ClickAsync("#key-forget");
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('sovereign.apiKey')"));

        // alice's key is not admin: the keys and audit panel says an admin key is needed.
        await page.ClickAsync("#tab-dashboard");
        await Expect(page.Locator("#keys-note")).ToContainTextAsync("need an admin key");
        await Expect(page.Locator("#keys-body")).ToBeHiddenAsync();

        // Only the anonymous 401s and the admin routes' 403 for alice appear as console errors (Chromium logs every
        // failed fetch), nothing else.
        Assert.All(console.Problems, p => Assert.True(p.Contains("401", StringComparison.Ordinal) || (p.Contains("403", StringComparison.Ordinal) && p.Contains("/admin/", StringComparison.Ordinal)), p));
        Assert.Empty(await console.CspViolationsAsync());
    }

    [Fact]
    public async Task An_admin_key_sees_each_keys_usage_against_its_limits_and_the_audit_logs_latest_lines()
    {
        using var audit = new TempDirectory();
        var settings = DemoAndScripted().Concat(TwoKeys(("ApiKeys:0:RequestsPerMinute", "600"), ("ApiKeys:1:Admin", "true"), ("Audit:Path", audit.Path))).ToDictionary();
        await using var server = await ServerHarness.StartAsync(settings);
        await using var console = await browser.OpenAsync(server.HttpBase);
        var page = console.Page;

        // A chat with alice's (non-admin) key, then bob's admin key on the dashboard.
        await page.FillAsync("#api-key", AliceKey);
        await page.PressAsync("#api-key", "Enter");
        await page.SelectOptionAsync("#model", "sovereign-demo");
        await page.FillAsync("#prompt", "Say hello");
        await page.ClickAsync("#send");
        await Expect(page.Locator(".message.assistant .content").Last).ToHaveTextAsync(TestModelGenerator.DemoReply);
        await page.FillAsync("#api-key", BobKey);
        await page.PressAsync("#api-key", "Enter");
        await page.ClickAsync("#tab-dashboard");

        var alice = page.Locator("#keys-table tbody tr[data-key='alice']");
        // alice's requests: the page's own calls (models, template) and the chat; none refused.
        await Expect(alice.Locator("td").Nth(1)).ToHaveTextAsync(new Regex(@"^\d+ / 600$"));
        await Expect(alice.Locator("td").Nth(2)).ToHaveTextAsync("unlimited");
        await Expect(alice.Locator("td").Nth(4)).ToHaveTextAsync(new Regex(@"^[1-9]\d* \(0\)$"));
        await Expect(alice.Locator("td").Nth(5)).ToHaveTextAsync(new Regex(@"^[1-9]\d*$"));
        await Expect(page.Locator("#keys-table tbody tr[data-key='bob'] td").First).ToHaveTextAsync("yes");
        var line = page.Locator("#audit-table tbody tr.audit-line").Last;
        await Expect(line).ToContainTextAsync("alice");
        await Expect(line).ToContainTextAsync("sovereign-demo");
        await Expect(line).ToContainTextAsync("stop");
        await Expect(page.Locator("#keys-note")).ToBeEmptyAsync();
        await page.Locator("#keys-title").ScrollIntoViewIfNeededAsync();
        await console.ScreenshotAsync("dashboard-keys-audit");

        var axe = await page.RunAxe();
        var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, string.Join(Environment.NewLine, serious.Select(Describe)));
        Assert.Empty(await console.CspViolationsAsync());

        // Only the 401s of the page's first, anonymous calls (before a key was typed) are console errors.
        Assert.All(console.Problems, p => Assert.Contains("401", p, StringComparison.Ordinal));
    }

    private static string Describe(AxeResultItem violation) =>
        $"{violation.Id} ({violation.Impact}): {violation.Help} at {string.Join("; ", violation.Nodes.Select(n => n.Html))}";

    private static Task<string> ChartPixelsAsync(IPage page, string selector) =>
        page.EvaluateAsync<string>("(s) => document.querySelector(s).toDataURL()", selector);

    private static async Task StreamUntilCancelledAsync(ServerHarness server, string body, CancellationToken cancel)
    {
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                await StreamAsync(server, body, cancel);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task StreamAsync(ServerHarness server, string body, CancellationToken cancel)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = content };
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync(cancel);
        var buffer = new byte[4096];
        while (await stream.ReadAsync(buffer, cancel) > 0)
        {
        }
    }
}
