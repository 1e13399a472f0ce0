using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

public sealed class GgufFuzzTests
{
    [Fact]
    public void Random_header_corruption_never_escapes_as_anything_but_GgufFormatException()
    {
        var original = File.ReadAllBytes(TestModels.Tiny().Path);
        var headerEnd = (int)GgufReader.Read(new MemoryStream(original), "original").DataOffset;
        var rng = new SplitMix64(2024);
        var buffer = new byte[original.Length];
        var rejected = 0;
        for (var i = 0; i < 1500; i++)
        {
            original.CopyTo(buffer, 0);
            var flips = 1 + (int)(rng.NextUInt64() % 3);
            for (var f = 0; f < flips; f++)
            {
                // Bias towards the fixed-layout start of the file, where counts and lengths live.
                var limit = rng.NextUInt64() % 2 == 0 ? 256 : headerEnd;
                buffer[(int)(rng.NextUInt64() % (ulong)limit)] = (byte)rng.NextUInt64();
            }

            try
            {
                GgufReader.Read(new MemoryStream(buffer, writable: false), $"fuzz-{i}");
            }
            catch (GgufFormatException ex)
            {
                Assert.Contains($"fuzz-{i}", ex.Message, StringComparison.Ordinal);
                rejected++;
            }
        }

        Assert.True(rejected > 100, $"only {rejected} mutations were rejected");
    }
}
