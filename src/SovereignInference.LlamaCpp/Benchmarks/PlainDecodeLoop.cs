using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace SovereignInference.LlamaCpp.Benchmarks;

/// <summary>
/// The baseline the engine is measured against: the simplest single-sequence LLamaSharp loop — decode the
/// prompt in one batch, then argmax and decode one token at a time. No scheduler, no channels.
/// </summary>
public static class PlainDecodeLoop
{
    /// <summary>
    /// Tokenizes <paramref name="prompts"/> (BOS added, as the server does) and runs them one after the other;
    /// returns generated tokens and the elapsed time (tokenization excluded).
    /// </summary>
    public static (int GeneratedTokens, TimeSpan Elapsed) Run(string modelPath, IReadOnlyList<string> prompts, int maxTokens, int contextSize, int threads)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        LlamaBackend.Configure(null, null);
        var parameters = new ModelParams(modelPath)
        {
            ContextSize = (uint)contextSize,
            SeqMax = 1,
            BatchSize = 512,
            UBatchSize = 512,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var handle = context.NativeHandle;
        var vocab = weights.NativeHandle.Vocab.Count;
        var batch = new LLamaBatch();
        var tokenized = prompts.Select(p => weights.Tokenize(p, true, false, System.Text.Encoding.UTF8).Select(t => (int)t).ToArray()).ToList();
        var generated = 0;
        var started = Stopwatch.GetTimestamp();
        foreach (var prompt in tokenized)
        {
            handle.MemoryClear(true);
            batch.Clear();
            for (var i = 0; i < prompt.Length; i++)
            {
                batch.Add((LLamaToken)prompt[i], (LLamaPos)i, (LLamaSeqId)0, i == prompt.Length - 1);
            }

            Check(handle.Decode(batch));
            var position = prompt.Length;
            for (var t = 0; t < maxTokens; t++)
            {
                var logits = handle.GetLogitsIth(batch.TokenCount - 1)[..vocab];
                var next = ArgMax(logits);
                generated++;
                if (t == maxTokens - 1)
                {
                    break;
                }

                batch.Clear();
                batch.Add((LLamaToken)next, (LLamaPos)position++, (LLamaSeqId)0, true);
                Check(handle.Decode(batch));
            }
        }

        return (generated, Stopwatch.GetElapsedTime(started));
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama_decode failed: {result}");
        }
    }
}
