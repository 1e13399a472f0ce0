using SovereignInference.Engine.Abstractions;
using SovereignInference.Gguf;
using SovereignInference.LlamaCpp;

namespace SovereignInference.Tests.LlamaCpp;

/// <summary>
/// How the weights reach memory (EngineOptions.Mmap): read into the process's own memory by default, where glibc can
/// back them with huge pages; mapped from the file with --mmap, as llama.cpp does by default.
/// </summary>
public sealed class WeightLoadingTests
{
    [Fact]
    public void Weights_are_read_into_memory_by_default_and_mapped_from_the_file_only_with_mmap()
    {
        // A copy of its own: another test's model still mapped in this process would answer for this one.
        var path = Path.Combine(Path.GetTempPath(), $"sovereign-weights-{Guid.NewGuid():N}.gguf");
        File.Copy(TestModels.Tiny().Path, path);
        try
        {
            var spec = new ModelLoadSpec(path, 64, 1, 64, 0, null, "f16", 1);
            float[] fromMemory, fromMap;
            using (var read = new LlamaBackend().Load(spec))
            {
                Assert.False(MapsFile(path), "the default load maps the GGUF file");
                fromMemory = Logits(read);
            }

            using (var mapped = new LlamaBackend().Load(spec with { Mmap = true }))
            {
                Assert.True(MapsFile(path), "--mmap maps the GGUF file");
                fromMap = Logits(mapped);
            }

            // The same weights either way: the same logits, bit for bit.
            Assert.Equal(fromMap.Length, fromMemory.Length);
            Assert.True(fromMap.AsSpan().SequenceEqual(fromMemory), "logits differ between the two loads");
            Assert.Contains(fromMap, v => v != 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static bool MapsFile(string path) =>
        File.ReadLines("/proc/self/maps").Any(line => line.EndsWith(" " + path, StringComparison.Ordinal));

    private static float[] Logits(LoadedModel model)
    {
        model.Runner.Decode([new BatchToken(1, 0, 0, WantLogits: false), new BatchToken(300, 1, 0, WantLogits: true)]);
        return model.Runner.GetLogits(1).ToArray();
    }
}
