using System.Text.Json;
using Microsoft.Playwright;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.BrowserConsole;

/// <summary>
/// Debian's chromium driven by Playwright (no browser download: <see cref="BrowserTypeLaunchOptions.ExecutablePath"/>),
/// launched once per test class. When no Chromium is found every test of the class fails with a message saying how to
/// install one; it never skips.
/// </summary>
public sealed class ConsoleBrowser : IAsyncLifetime
{
    /// <summary>Set to a Chromium binary to use another one than Debian's.</summary>
    public const string ExecutableVariable = "SOVEREIGN_CHROMIUM";

    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser is not started");

    /// <summary>Where screenshots go: artifacts/test-results/console (kept by CI with the TRX files).</summary>
    public static string ScreenshotDirectory { get; } = RepositoryFiles.PathOf("artifacts/test-results/console");

    /// <summary>The Chromium to drive: $SOVEREIGN_CHROMIUM, else the first of the usual Debian paths that exists.</summary>
    public static string ExecutablePath() => ExecutablePath(Environment.GetEnvironmentVariable(ExecutableVariable), Candidates);

    /// <summary>The binary <paramref name="configured"/> names, else the first of <paramref name="candidates"/> that exists; else a clear error.</summary>
    internal static string ExecutablePath(string? configured, IReadOnlyList<string> candidates)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured)
                ? configured
                : throw new InvalidOperationException($"{ExecutableVariable}={configured}, but there is no file there.");
        }

        return candidates.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(
            $"No Chromium for the console's browser tests: none of {string.Join(", ", candidates)} exists. Install Debian's chromium " +
            $"(apt-get install -y chromium; .ci/run does it when missing) or set {ExecutableVariable} to a Chromium binary.");
    }

    public async Task InitializeAsync()
    {
        var path = ExecutablePath();

        // Expect() waits 5 s by default; a reply on a busy 2-core CI machine can take longer.
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = path,
            Headless = true,
            // Root in CI containers cannot use Chromium's sandbox; /dev/shm is small in containers.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>A fresh browser context (own sessionStorage) on <paramref name="url"/>, with every problem the page reports recorded.</summary>
    public async Task<ConsolePage> OpenAsync(Uri url)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var console = new ConsolePage(context, page);
        await page.AddInitScriptAsync(ConsolePage.ViolationRecorder);
        await page.GotoAsync(url.ToString());
        await page.WaitForSelectorAsync("body[data-ready='true']");
        return console;
    }
}

/// <summary>One page of the console and what went wrong on it: console errors, uncaught exceptions, failed requests, CSP violations.</summary>
public sealed class ConsolePage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    /// <summary>Runs before the page's own scripts; keeps every securitypolicyviolation event.</summary>
    internal const string ViolationRecorder = """
        window.__cspViolations = [];
        document.addEventListener("securitypolicyviolation", (e) => {
          window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
        });
        """;

    private readonly List<string> _problems = Attach(page);
    private readonly List<string> _requests = Record(page);

    public IPage Page { get; } = page;

    /// <summary>Console errors, page errors and failed requests so far.</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>The URL of every request the page made so far.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The CSP violations the page has seen.</summary>
    public async Task<IReadOnlyList<string>> CspViolationsAsync()
    {
        var json = await Page.EvaluateAsync<JsonElement>("() => window.__cspViolations ?? null");
        Assert.True(json.ValueKind == JsonValueKind.Array, "the CSP violation recorder did not run");
        return [.. json.EnumerateArray().Select(v => v.GetString() ?? "")];
    }

    public async Task ScreenshotAsync(string name) =>
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleBrowser.ScreenshotDirectory, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync() => await context.CloseAsync();

    private static List<string> Record(IPage page)
    {
        var requests = new List<string>();
        page.Request += (_, request) =>
        {
            lock (requests)
            {
                requests.Add(request.Url);
            }
        };
        return requests;
    }

    private static List<string> Attach(IPage page)
    {
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                lock (problems)
                {
                    problems.Add($"console {message.Type}: {message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (problems)
            {
                problems.Add($"page error: {error}");
            }
        };
        page.RequestFailed += (_, request) =>
        {
            // A stream the page itself stopped (Stop button, leaving the page) is not a failure.
            if (request.Failure is { } failure && !failure.Contains("ERR_ABORTED", StringComparison.Ordinal))
            {
                lock (problems)
                {
                    problems.Add($"request failed: {request.Method} {request.Url}: {failure}");
                }
            }
        };
        return problems;
    }
}
