using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Sampling;

namespace SovereignInference.Engine.Requests;

/// <summary>One generation: a prompt (text or token ids), sampling parameters and limits.</summary>
public sealed record GenerationRequest
{
    /// <summary>Model id as listed by the engine.</summary>
    public required string Model { get; init; }

    /// <summary>Prompt text. Exactly one of <see cref="Prompt"/> and <see cref="PromptTokens"/> is set.</summary>
    public string? Prompt { get; init; }

    /// <summary>Prompt as token ids (validated against the vocabulary before any native call).</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }

    /// <summary>Add the BOS token in front of a text prompt (null = the model's default).</summary>
    public bool? AddBos { get; init; }

    /// <summary>Parse control-token text such as "[INST]" in the prompt (chat templates need this).</summary>
    public bool ParseSpecialTokens { get; init; } = true;

    /// <summary>Most tokens to generate; null = until EOS or the context is full.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Stop strings; the first one produced ends generation and is not emitted.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Keep generating past end-of-generation tokens (benchmarks with fixed output lengths).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Sampling parameters, private to this request.</summary>
    public SamplingParams Sampling { get; init; } = new();

    /// <summary>
    /// A grammar the output must match (OpenAI <c>response_format</c>; see <see cref="JsonSchemaGrammar"/>), or null.
    /// End-of-generation is allowed only once the text is complete under the grammar.
    /// </summary>
    public GrammarSpec? Grammar { get; init; }

    /// <summary>
    /// Control tokens written into the output text as these names (chat replies: "[TOOL_CALLS]", "[ARGS]",
    /// "[THINK]"…, for the reply parser); other control tokens stay invisible. Null for none.
    /// </summary>
    public IReadOnlyDictionary<int, string>? ControlText { get; init; }

    /// <summary>Who is asking (tenant / API key name), for fairness and audit.</summary>
    public string? User { get; init; }

    /// <summary>
    /// Ollama's keep_alive for this request's model: a duration ("10m"), seconds, "0" (unload when idle after this
    /// request) or a negative value (keep loaded); null: the model's keep-alive.
    /// </summary>
    public string? KeepAlive { get; init; }
}
