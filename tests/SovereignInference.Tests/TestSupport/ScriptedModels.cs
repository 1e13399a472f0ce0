using SovereignInference.Gguf;

namespace SovereignInference.Tests.TestSupport;

/// <summary>
/// The scripted model the engine tests share. Greedy output depends only on the last token:
/// <list type="bullet">
/// <item>"[/INST]" → " Hello world!" then EOS (chat prompts)</item>
/// <item>"▁utf" → the bytes of "é€😀", one byte token each, then EOS (multi-byte characters split across tokens)</item>
/// <item>"▁loop" → " a b a b ..." forever (length, cancellation and load tests)</item>
/// </list>
/// </summary>
public static class ScriptedModels
{
    public static ScriptedModelSpec Spec { get; } = new()
    {
        Name = "sovereign-engine-tests",
        Transitions =
        [
            .. ScriptedModelSpec.Chain("[/INST]", "▁Hello", "▁world", "!", "</s>"),
            .. ScriptedModelSpec.Chain("▁utf", "<0xC3>", "<0xA9>", "<0xE2>", "<0x82>", "<0xAC>", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "</s>"),
            .. ScriptedModelSpec.Chain("▁loop", "▁a", "▁b", "▁a"),
        ],
    };

    public static GeneratedModel Engine => TestModels.Scripted(Spec);

    public static int Id(string piece) => Engine.Vocabulary.IdOf(piece);

    /// <summary>BOS then the given pieces, as token ids.</summary>
    public static int[] Prompt(params string[] pieces) => [TestVocabulary.BosId, .. pieces.Select(Id)];

    /// <summary>A prompt of <paramref name="length"/> tokens of filler that ends in "▁loop".</summary>
    public static int[] LoopPrompt(int length, int seed = 1)
    {
        var random = new Random(seed);
        var vocab = Engine.Vocabulary;
        var filler = Enumerable.Range(0, vocab.Count).Where(i => vocab.Tokens[i].Type == TokenType.Normal).ToArray();
        var prompt = new int[length];
        prompt[0] = TestVocabulary.BosId;
        for (var i = 1; i < length - 1; i++)
        {
            prompt[i] = filler[random.Next(filler.Length)];
        }

        prompt[^1] = Id("▁loop");
        return prompt;
    }
}
