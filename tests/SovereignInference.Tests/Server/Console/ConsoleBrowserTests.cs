namespace SovereignInference.Tests.Server.BrowserConsole;

/// <summary>Without a browser the console's tests fail with a message saying what to install; they never skip.</summary>
public sealed class ConsoleBrowserTests
{
    [Fact]
    public void No_chromium_is_a_failure_that_says_how_to_install_one()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ConsoleBrowser.ExecutablePath(null, ["/nonexistent/chromium"]));

        Assert.Contains("apt-get install -y chromium", error.Message, StringComparison.Ordinal);
        Assert.Contains(ConsoleBrowser.ExecutableVariable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configured_chromium_that_does_not_exist_is_a_failure_too()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ConsoleBrowser.ExecutablePath("/nonexistent/chrome", ["/usr/bin/env"]));

        Assert.Contains("/nonexistent/chrome", error.Message, StringComparison.Ordinal);
    }
}
