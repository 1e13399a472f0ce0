using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Engine.Observability;

/// <summary>
/// How one engine call ended, published once per <see cref="Hosting.InferenceEngine.GenerateAsync"/>
/// (success, error or cancellation) for audit logs and per-key token budgets.
/// </summary>
/// <param name="Started">Wall-clock time the call began.</param>
/// <param name="Elapsed">From the call to its end (end-to-end latency).</param>
/// <param name="Request">The request as the adapter built it (<see cref="GenerationRequest.User"/> is the API key name).</param>
/// <param name="ModelId">The requested model id.</param>
/// <param name="ModelSha256">SHA-256 of the model file, when the model is known.</param>
/// <param name="Status">"ok", "cancelled" (the caller went away) or the snake_case <see cref="EngineErrorCode"/>.</param>
/// <param name="Finish">Finish reason of a completed generation.</param>
/// <param name="PromptTokens">Prompt tokens (0 when the request failed before tokenization finished).</param>
/// <param name="CompletionTokens">Tokens generated (also counted for cancelled calls).</param>
/// <param name="CachedPromptTokens">Prompt tokens reused from the prefix cache.</param>
/// <param name="Timings">Latency breakdown of a completed generation.</param>
/// <param name="CompletionText">The generated text, only when <see cref="Hosting.InferenceEngine.CaptureCompletionText"/> is on.</param>
public sealed record GenerationRecord(
    DateTimeOffset Started,
    TimeSpan Elapsed,
    GenerationRequest Request,
    string ModelId,
    string? ModelSha256,
    string Status,
    FinishReason? Finish,
    int PromptTokens,
    int CompletionTokens,
    int CachedPromptTokens,
    GenerationTimings? Timings,
    string? CompletionText)
{
    /// <summary>Prompt plus completion tokens: what a per-key token budget is charged.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>The finish_reason label: "stop", "length", "cancelled" or "error".</summary>
    public static string Label(FinishReason reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.Cancelled => "cancelled",
        _ => "error",
    };

    /// <summary>The status label of an error code: ModelNotFound → "model_not_found".</summary>
    public static string StatusOf(EngineErrorCode code) => code switch
    {
        EngineErrorCode.InvalidArgument => "invalid_argument",
        EngineErrorCode.ModelNotFound => "model_not_found",
        EngineErrorCode.ModelNotReady => "model_not_ready",
        EngineErrorCode.Overloaded => "overloaded",
        EngineErrorCode.PromptTooLong => "prompt_too_long",
        EngineErrorCode.ShuttingDown => "shutting_down",
        EngineErrorCode.BackendFailure => "backend_failure",
        _ => "error",
    };
}
