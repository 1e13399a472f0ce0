namespace SovereignInference.Server.Security;

/// <summary>
/// Endpoint metadata: when API keys are configured, the route needs a key marked admin
/// (<c>Sovereign:ApiKeys:N:Admin=true</c>); other keys get 403. Without keys the route is open like every other.
/// </summary>
public sealed class AdminOnly;
