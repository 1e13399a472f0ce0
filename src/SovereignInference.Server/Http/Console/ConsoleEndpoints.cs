using Microsoft.Net.Http.Headers;
using SovereignInference.Server.Hosting;

namespace SovereignInference.Server.Http.BrowserConsole;

/// <summary>
/// The browser console: GET / (index.html) and GET /console/{file} for each embedded file, one route per file so a
/// name that is not a console file matches no route (and, with keys configured, gets 401 like any unknown path).
/// The routes are AllowAnonymous: a browser cannot send a key with a page load, and the files hold no data; the
/// page asks for the key and sends it with every API call, where <c>ApiKeyMiddleware</c> checks it as for any client.
/// Every answer carries a strict Content-Security-Policy (same origin only, no inline script or style).
/// </summary>
public static class ConsoleEndpoints
{
    /// <summary>The path prefix of the console's assets.</summary>
    public const string AssetPrefix = "/console/";

    /// <summary>
    /// The policy of every console response: scripts, styles, images and API calls from this origin only; no
    /// inline code, no plugins, no framing, no forms posting elsewhere.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Maps the console unless Sovereign:Console:Enabled (or, unset, a non-loopback HTTP listener) turns it off.</summary>
    public static WebApplication MapSovereignConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Configuration.GetSection(ConsoleOptions.Section).Get<ConsoleOptions>() ?? new ConsoleOptions();
        var server = app.Services.GetRequiredService<ServerOptions>();
        if (!options.IsServedOn(server.HttpUrl))
        {
            return app;
        }

        var files = ConsoleFiles.Load();
        Map(app, "/", files.Files["index.html"]);
        foreach (var file in files.Files.Values.Where(f => f.Name != "index.html"))
        {
            Map(app, AssetPrefix + file.Name, file);
        }

        return app;
    }

    private static void Map(WebApplication app, string route, ConsoleFile file) =>
        app.MapGet(route, (HttpContext context) => Serve(context, file))
            .AllowAnonymous()
            .WithTags("console")
            .Produces(StatusCodes.Status200OK, contentType: file.ContentType.Split(';')[0])
            .Produces(StatusCodes.Status304NotModified)
            .WithDescription("The browser console (a static file embedded in the server; see docs/console.md).");

    private static IResult Serve(HttpContext context, ConsoleFile file)
    {
        var headers = context.Response.Headers;
        headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
        headers[HeaderNames.XContentTypeOptions] = "nosniff";
        headers[HeaderNames.XFrameOptions] = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers[HeaderNames.CacheControl] = "no-cache";
        headers[HeaderNames.ETag] = file.ETag;
        if (context.Request.Headers.IfNoneMatch.Contains(file.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(file.Content, file.ContentType);
    }
}
