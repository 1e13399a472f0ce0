using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Models;

namespace SovereignInference.Engine.Requests;

/// <summary>What a request needs from a model entry once the model is ready, without null-forgiving its fields.</summary>
public static class ReadyModel
{
    /// <summary>The model's tokenizer; ModelNotReady (param "model") when it has none yet.</summary>
    public static ITokenizer ReadyTokenizer(this ModelEntry model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Tokenizer ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{model.Id}' is not ready", "model");
    }
}
