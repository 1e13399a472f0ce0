using SovereignInference.Gguf;

namespace SovereignInference.Tests.Gguf;

/// <summary>Helpers to read tensor data back from a GGUF file in tests.</summary>
internal static class GgufTestFiles
{
    public static byte[] ReadTensorBytes(string path, GgufFile file, string tensor)
    {
        var t = file.TensorsByName[tensor];
        using var s = File.OpenRead(path);
        s.Seek(file.GetAbsoluteOffset(t), SeekOrigin.Begin);
        var bytes = new byte[t.ByteSize];
        s.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Decodes an F32, F16 or Q8_0 tensor to floats.</summary>
    public static float[] ReadTensorFloats(string path, GgufFile file, string tensor)
    {
        var t = file.TensorsByName[tensor];
        var bytes = ReadTensorBytes(path, file, tensor);
        var result = new float[t.ElementCount];
        switch (t.Type)
        {
            case GgmlType.F32:
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] = BitConverter.ToSingle(bytes, i * 4);
                }

                break;
            case GgmlType.F16:
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] = (float)BitConverter.ToHalf(bytes, i * 2);
                }

                break;
            case GgmlType.Q8_0:
                Q8_0Codec.Dequantize(bytes, result);
                break;
            default:
                throw new NotSupportedException(t.Type.ToString());
        }

        return result;
    }
}
