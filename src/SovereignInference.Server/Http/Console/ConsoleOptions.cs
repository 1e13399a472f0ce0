using SovereignInference.Server.Security;

namespace SovereignInference.Server.Http.BrowserConsole;

/// <summary>The browser console served at / (section "Sovereign:Console").</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Sovereign:Console";

    /// <summary>
    /// true serves the console, false never does; unset (the default) serves it only while the HTTP API listens on a
    /// loopback address. A server bound to a network address must opt in: the console's files are open to anyone
    /// who reaches the port (the APIs they call still need a key), and an operator should choose to publish a UI.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>Whether the console is served by a server whose HTTP API listens on <paramref name="httpUrl"/>.</summary>
    public bool IsServedOn(string httpUrl) => Enabled ?? SecuritySetup.IsLoopback(httpUrl);
}
