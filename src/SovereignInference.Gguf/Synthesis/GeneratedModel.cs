namespace SovereignInference.Gguf;

/// <summary>A generated GGUF model: where it is, its vocabulary, its shape and (for scripted models) its script.</summary>
/// <param name="Path">File path.</param>
/// <param name="Vocabulary">Token texts and ids.</param>
/// <param name="Shape">Hyper-parameters used.</param>
/// <param name="Script">The scripted spec, or null for random models.</param>
public sealed record GeneratedModel(string Path, TestVocabulary Vocabulary, ModelShape Shape, ScriptedModelSpec? Script)
{
    /// <summary>
    /// For scripted models: the greedy continuation after <paramref name="lastToken"/> (token texts, stopping
    /// after <c>&lt;/s&gt;</c> or after <paramref name="maxTokens"/>).
    /// </summary>
    public IReadOnlyList<string> ExpectedContinuation(string lastToken, int maxTokens = 64)
    {
        if (Script is null)
        {
            throw new InvalidOperationException("Only scripted models have a known continuation.");
        }

        var next = Script.Transitions.ToDictionary(t => t.From, t => t.To, StringComparer.Ordinal);
        var result = new List<string>();
        var current = lastToken;
        while (result.Count < maxTokens)
        {
            current = next.GetValueOrDefault(current, Script.DefaultNext);
            result.Add(current);
            if (current == "</s>")
            {
                break;
            }
        }

        return result;
    }
}
