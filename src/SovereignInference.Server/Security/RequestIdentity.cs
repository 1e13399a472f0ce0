namespace SovereignInference.Server.Security;

/// <summary>
/// Who is calling: the authenticated API key of the current request, put into
/// <see cref="HttpContext.Items"/> by <see cref="ApiKeyMiddleware"/> (HTTP) and <see cref="ApiKeyInterceptor"/>
/// (gRPC: <c>context.GetHttpContext()</c>). Adapters set <c>GenerationRequest.User = HttpContext.GetApiKeyName()</c>
/// so fair share, per-key token budgets and the audit log see the key.
/// </summary>
public static class RequestIdentity
{
    /// <summary>The <see cref="HttpContext.Items"/> key holding the key name (a string).</summary>
    public const string KeyNameItem = "sovereign.key";

    /// <summary>The authenticated key's name; null when authentication is off (no keys configured).</summary>
    public static string? GetApiKeyName(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(KeyNameItem, out var name) ? name as string : null;
    }

    /// <summary>
    /// The <c>GenerationRequest.User</c> of a request: the authenticated key's name when keys are configured
    /// (a client cannot spend another tenant's budget by naming it), otherwise what the request itself claims.
    /// </summary>
    public static string? UserFor(HttpContext? context, string? claimed) => context?.GetApiKeyName() ?? claimed;

    internal static void SetApiKeyName(this HttpContext context, string name) => context.Items[KeyNameItem] = name;
}
