using System.Runtime.InteropServices;

namespace SovereignInference.LlamaCpp;

/// <summary>
/// ggml device calls LLamaSharp does not bind. "ggml-base" resolves to the library LLamaSharp already
/// loaded (the dynamic loader matches it by soname).
/// </summary>
internal static partial class GgmlDevices
{
    public const int TypeGpu = 1;
    public const int TypeIntegratedGpu = 2;

    [LibraryImport("ggml-base")]
    internal static partial int ggml_backend_dev_type(nint device);

    [LibraryImport("ggml-base")]
    internal static partial void ggml_backend_dev_memory(nint device, out nuint free, out nuint total);
}
