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
    /// <summary>What a loop did: all generated tokens over the whole time, and the decode phase alone (one-token-per-sequence decodes, no prompts).</summary>
    public readonly record struct LoopResult(int GeneratedTokens, TimeSpan Elapsed, int DecodeTokens, TimeSpan DecodeElapsed);

    /// <summary>
    /// Tokenizes <paramref name="prompts"/> (BOS added, as the server does) and runs them one after the other;
    /// returns generated tokens and the elapsed time (tokenization excluded). The batched loop with waves of one.
    /// </summary>
    public static LoopResult Run(string modelPath, IReadOnlyList<string> prompts, int maxTokens, int contextSize, int threads) =>
        RunBatched(modelPath, prompts, maxTokens, contextSize, threads, concurrency: 1);

    /// <summary>
    /// llama.cpp's own batched decode, without the engine: the prompts run in waves of <paramref name="concurrency"/>
    /// sequences in one context (the engine's context settings: one KV stream per sequence); each wave decodes all its
    /// prompts in one batch, then one token per sequence per decode call, argmax. The ceiling for the engine's batching.
    /// </summary>
    public static LoopResult RunBatched(string modelPath, IReadOnlyList<string> prompts, int maxTokens, int contextSize, int threads, int concurrency)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        var parameters = Parameters(modelPath, contextSize, concurrency, threads);
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var handle = context.NativeHandle;
        var vocab = weights.NativeHandle.Vocab.Count;
        var batch = new LLamaBatch();
        var tokenized = Tokenize(weights, prompts);
        var generated = 0;
        var decodeTokens = 0;
        long decodeTicks = 0;
        var started = Stopwatch.GetTimestamp();
        for (var wave = 0; wave < tokenized.Count; wave += concurrency)
        {
            var members = tokenized.Skip(wave).Take(concurrency).ToArray();
            handle.MemoryClear(true);
            var positions = new int[members.Length];
            var next = new int[members.Length];
            var pending = new List<(int Sequence, int Index)>();
            batch.Clear();
            for (var s = 0; s < members.Length; s++)
            {
                var prompt = members[s];
                if (batch.TokenCount + prompt.Length > 512)
                {
                    PrefillFlush(handle, batch, pending, next, vocab);
                }

                for (var i = 0; i < prompt.Length; i++)
                {
                    batch.Add((LLamaToken)prompt[i], (LLamaPos)i, (LLamaSeqId)s, i == prompt.Length - 1);
                }

                pending.Add((s, batch.TokenCount - 1));
                positions[s] = prompt.Length;
            }

            PrefillFlush(handle, batch, pending, next, vocab);
            var decodeStarted = Stopwatch.GetTimestamp();
            for (var t = 0; t < maxTokens; t++)
            {
                if (t > 0)
                {
                    for (var s = 0; s < members.Length; s++)
                    {
                        next[s] = ArgMax(handle.GetLogitsIth(s)[..vocab]);
                    }
                }

                generated += members.Length;
                if (t == maxTokens - 1)
                {
                    break;
                }

                batch.Clear();
                for (var s = 0; s < members.Length; s++)
                {
                    batch.Add((LLamaToken)next[s], (LLamaPos)positions[s]++, (LLamaSeqId)s, true);
                }

                Check(handle.Decode(batch));
                decodeTokens += members.Length;
            }

            decodeTicks += Stopwatch.GetTimestamp() - decodeStarted;
        }

        return new LoopResult(generated, Stopwatch.GetElapsedTime(started), decodeTokens, Stopwatch.GetElapsedTime(0, decodeTicks));
    }

    /// <summary>CPU only, batches of up to 512 tokens, <paramref name="contextSize"/> cells for each of <paramref name="sequences"/> sequences.</summary>
    private static ModelParams Parameters(string modelPath, int contextSize, int sequences, int threads)
    {
        LlamaBackend.Configure(null, null);
        return new ModelParams(modelPath)
        {
            ContextSize = (uint)(contextSize * sequences),
            SeqMax = (uint)sequences,
            BatchSize = 512,
            UBatchSize = 512,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            KVUnified = false,
        };
    }

    /// <summary>The prompts as token ids, BOS added as the server does.</summary>
    private static List<int[]> Tokenize(LLamaWeights weights, IReadOnlyList<string> prompts) =>
        prompts.Select(p => weights.Tokenize(p, true, false, System.Text.Encoding.UTF8).Select(t => (int)t).ToArray()).ToList();

    private static void PrefillFlush(SafeLLamaContextHandle handle, LLamaBatch batch, List<(int Sequence, int Index)> pending, int[] next, int vocab)
    {
        Check(handle.Decode(batch));
        foreach (var (sequence, index) in pending)
        {
            next[sequence] = ArgMax(handle.GetLogitsIth(index)[..vocab]);
        }

        pending.Clear();
        batch.Clear();
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
