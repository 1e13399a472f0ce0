using System.Globalization;
using System.Text.Json;
using SovereignInference.Engine.Errors;
using SovereignInference.Server.Http.OpenAi.Endpoints;
using SovereignInference.Server.Http.OpenApi;
using SovereignInference.Server.Observability;
using SovereignInference.Server.Security;

namespace SovereignInference.Server.Http.Admin;

/// <summary>
/// What the operator sees of the keys and the audit log, for the console's "Keys and audit log" panel:
/// GET /admin/usage (each key's name, admin flag, limits and usage; never the key or its hash) and
/// GET /admin/audit?limit=N (the audit log's latest lines, oldest first, from memory). Like POST /models/load they
/// need a key marked admin when keys are configured (<see cref="AdminOnly"/>) and are open, like every route, when none is.
/// </summary>
internal static class UsageAndAuditEndpoints
{
    /// <summary>Lines /admin/audit returns without a limit.</summary>
    public const int DefaultAuditLines = 50;

    public static void MapUsageAndAuditEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/usage", Usage).WithMetadata(new AdminOnly())
            .Produces(StatusCodes.Status200OK, contentType: "application/json").AnswersOpenAiErrors(StatusCodes.Status403Forbidden)
            .WithDescription("Per API key: name, admin flag, limits and usage (requests, refusals and tokens since start, requests in flight, the current minute against each limit set). Needs an admin key when keys are configured.");
        app.MapGet("/admin/audit", Audit).WithMetadata(new AdminOnly())
            .Produces(StatusCodes.Status200OK, contentType: "application/json").AnswersOpenAiErrors(StatusCodes.Status403Forbidden)
            .WithDescription($"The audit log's latest lines (?limit=N, default {DefaultAuditLines}, at most {AuditLog.RecentCapacity}), oldest first. Needs an admin key when keys are configured.");
    }

    private static Task Usage(HttpContext context, ApiKeyStore keys, KeyRateLimiter limiter) => OpenAiCall.RunAsync(context, () =>
    {
        return WriteAsync(context, json =>
        {
            json.WriteString("object", "list");
            json.WriteBoolean("authentication", !keys.IsEmpty);
            json.WriteNumber("window_seconds", 60);
            json.WriteStartArray("data");
            foreach (var key in keys.Keys)
            {
                var usage = limiter.Usage(key);
                json.WriteStartObject();
                json.WriteString("name", key.Name);
                json.WriteBoolean("admin", key.Admin);
                json.WriteNumber("priority", key.Priority);
                json.WriteStartObject("limits");
                json.WriteNumber("requests_per_minute", key.RequestsPerMinute);
                json.WriteNumber("tokens_per_minute", key.TokensPerMinute);
                json.WriteNumber("max_concurrent_streams", key.MaxConcurrentStreams);
                json.WriteEndObject();
                json.WriteStartObject("usage");
                json.WriteNumber("requests", usage.Requests);
                json.WriteNumber("refused", usage.Refused);
                json.WriteNumber("tokens", usage.Tokens);
                json.WriteNumber("in_flight", usage.InFlight);
                WriteNullable(json, "requests_this_minute", usage.RequestsThisWindow);
                WriteNullable(json, "tokens_this_minute", usage.TokensThisWindow);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        });
    });

    private static Task Audit(HttpContext context, AuditLog audit) => OpenAiCall.RunAsync(context, () =>
    {
        var limit = DefaultAuditLines;
        if (context.Request.Query.TryGetValue("limit", out var values))
        {
            if (values.Count != 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1)
            {
                throw EngineException.Invalid("limit", $"'limit' must be a whole number from 1 (at most {AuditLog.RecentCapacity} lines are kept)");
            }
        }

        var lines = audit.Recent(limit);
        return WriteAsync(context, json =>
        {
            json.WriteString("object", "list");
            json.WriteBoolean("enabled", audit.IsEnabled);
            json.WriteNumber("capacity", AuditLog.RecentCapacity);
            json.WriteStartArray("data");
            foreach (var line in lines)
            {
                json.WriteRawValue(line, skipInputValidation: true);
            }

            json.WriteEndArray();
        });
    });

    private static void WriteNullable(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static async Task WriteAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        write(json);
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
