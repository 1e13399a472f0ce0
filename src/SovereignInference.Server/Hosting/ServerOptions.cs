namespace SovereignInference.Server.Hosting;

/// <summary>Transport settings (section "Sovereign", next to the engine options).</summary>
public sealed class ServerOptions
{
    public const string Section = "Sovereign";

    /// <summary>Where the OpenAI-compatible HTTP API listens. Loopback by default.</summary>
    public string HttpUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// Where the gRPC API listens: HTTP/2 only, cleartext (h2c) for http://, TLS for https://. Loopback by
    /// default; an empty value turns the gRPC API off.
    /// </summary>
    public string GrpcUrl { get; set; } = "http://127.0.0.1:8081";

    /// <summary>
    /// The chat field that carries a reasoning model's thinking, in messages and stream deltas:
    /// "reasoning_content" (llama-server, DeepSeek; the default) or "reasoning" (vLLM, OpenRouter).
    /// </summary>
    public string ReasoningField { get; set; } = "reasoning_content";
}
