using System.Net;
using Microsoft.Net.Http.Headers;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Server.Observability;

namespace SovereignInference.Server.Security;

/// <summary>
/// Defends a server on the loopback interface against web pages the user visits (DNS rebinding, cross-site
/// requests), as Ollama does since CVE-2024-28224:
/// <list type="bullet">
/// <item>Host: a request that arrived on a loopback address must name <c>localhost</c>, <c>127.0.0.1</c>,
/// <c>[::1]</c> (any port) or a name in <see cref="SecurityOptions.AllowedHosts"/>; otherwise 400. A rebinding
/// page reaches 127.0.0.1 under its own name, so its requests carry that name. Requests from other addresses are
/// checked only when AllowedHosts is configured (<c>*</c> turns the check off).</item>
/// <item>Origin: a browser request from another origin is refused (403) unless that origin is in
/// Sovereign:Cors:Origins. Same-origin requests (the Origin names this server's scheme, host and port) pass;
/// clients that are not browsers send no Origin.</item>
/// </list>
/// JSON endpoints also refuse bodies that are not application/json (415, in the body reader), so a form or
/// text/plain POST, which browsers send without a preflight, never runs.
/// </summary>
internal sealed partial class RequestOriginGuard(RequestDelegate next, SecurityOptions options, ILogger<RequestOriginGuard> logger)
{
    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "::1", "[::1]"];
    private readonly bool _anyHost = options.AllowedHosts.Contains("*");

    public Task InvokeAsync(HttpContext context)
    {
        if (!IsHostAllowed(context))
        {
            LogRefused(logger, "host", context.Request.Host.Value ?? "");
            RequestMetrics.CountRefusal(context, RefusalReason.CrossSite);
            return SecurityResponses.Write(
                context,
                StatusCodes.Status400BadRequest,
                $"The Host header '{context.Request.Host.Value}' is not a name of this server; allowed: localhost, 127.0.0.1, [::1] and Sovereign:AllowedHosts",
                "invalid_request_error",
                "invalid_host");
        }

        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !IsOriginAllowed(context.Request, origin))
        {
            LogRefused(logger, "origin", origin);
            RequestMetrics.CountRefusal(context, RefusalReason.CrossSite);
            return SecurityResponses.Write(
                context,
                StatusCodes.Status403Forbidden,
                $"Cross-origin requests from '{origin}' are not allowed; list the origin in Sovereign:Cors:Origins to allow it",
                "invalid_request_error",
                "origin_not_allowed");
        }

        return next(context);
    }

    private bool IsHostAllowed(HttpContext context)
    {
        if (_anyHost)
        {
            return true;
        }

        var arrivedOnLoopback = context.Connection.LocalIpAddress is { } local && IPAddress.IsLoopback(local);
        if (!arrivedOnLoopback && options.AllowedHosts.Count == 0)
        {
            return true;
        }

        // HTTP/1.1 without Host is refused by Kestrel; HTTP/2 carries :authority in Host.
        var host = context.Request.Host.Host;
        return !string.IsNullOrEmpty(host)
            && (LoopbackNames.Contains(host, StringComparer.OrdinalIgnoreCase)
                || options.AllowedHosts.Contains(host, StringComparer.OrdinalIgnoreCase)
                || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)));
    }

    private bool IsOriginAllowed(HttpRequest request, string origin)
    {
        if (options.Cors.Origins.Contains(origin, StringComparer.OrdinalIgnoreCase) || options.Cors.Origins.Contains("*"))
        {
            return true;
        }

        // Same origin: the page was served by this server (scheme, host and port all equal).
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    [LoggerMessage(EventId = ServerEventIds.OriginRefused, Level = LogLevel.Information, Message = "Refused a request by its {Header} header: '{Value}'")]
    private static partial void LogRefused(ILogger logger, string header, string value);
}

/// <summary>
/// Error answers written by the security middleware: the one error writer of the HTTP API
/// (<see cref="OpenAiErrorMapper.WriteAsync"/>: OpenAI shape, Anthropic's under /v1/messages), never cached.
/// </summary>
internal static class SecurityResponses
{
    public static Task Write(HttpContext context, int status, string message, string type, string code)
    {
        context.Response.Headers[HeaderNames.CacheControl] = "no-store";
        return OpenAiErrorMapper.WriteAsync(context, new OpenAiError(status, new ErrorBody(message, type, null, code)));
    }
}
