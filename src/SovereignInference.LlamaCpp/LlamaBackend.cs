using System.Runtime.InteropServices;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;

namespace SovereignInference.LlamaCpp;

/// <summary>
/// The LLamaSharp backend. Configure native library loading with <see cref="Configure"/> before the first
/// native call; after that the packaged CPU (or, built with -p:Cuda=true, CUDA 12) llama.cpp is used unless
/// a directory with a self-built llama.cpp was given.
/// </summary>
public sealed class LlamaBackend : IModelBackend
{
    private static readonly Lock ConfigureLock = new();
    private static bool s_configured;
    private readonly Lazy<string> _description;

    public LlamaBackend(ILogger? logger = null)
    {
        Configure(null, logger);
        _description = new Lazy<string>(Describe);
    }

    public string Description => _description.Value;

    /// <summary>The environment variable (the configuration key Sovereign:NativeLibDir) read when no directory is given.</summary>
    public const string NativeLibDirVariable = "Sovereign__NativeLibDir";

    /// <summary>
    /// Points LLamaSharp at <paramref name="nativeLibDir"/> (a directory with libllama and ggml) when given, else at
    /// the directory in <see cref="NativeLibDirVariable"/> when set (so every process of a run, the tests and
    /// bench-engine's children included, loads the same build: scripts/native/test-with-native.sh), and routes
    /// llama.cpp's log through <paramref name="logger"/>. Only the first call has an effect.
    /// </summary>
    public static void Configure(string? nativeLibDir, ILogger? logger)
    {
        if (string.IsNullOrEmpty(nativeLibDir))
        {
            nativeLibDir = Environment.GetEnvironmentVariable(NativeLibDirVariable);
        }

        lock (ConfigureLock)
        {
            if (s_configured)
            {
                return;
            }

            s_configured = true;
            if (NativeLibraryConfig.LLama.LibraryHasLoaded)
            {
                // Something already made a native call; the packaged library is in use and can no longer be changed.
                if (!string.IsNullOrEmpty(nativeLibDir))
                {
                    throw new InvalidOperationException("--native-lib-dir must be applied before llama.cpp is first used");
                }

                return;
            }

            var config = NativeLibraryConfig.All;
            if (!string.IsNullOrEmpty(nativeLibDir))
            {
                if (!Directory.Exists(nativeLibDir))
                {
                    throw new DirectoryNotFoundException($"--native-lib-dir '{nativeLibDir}' does not exist");
                }

                var llama = Path.Combine(nativeLibDir, OperatingSystem.IsWindows() ? "llama.dll" : OperatingSystem.IsMacOS() ? "libllama.dylib" : "libllama.so");
                var mtmd = Path.Combine(nativeLibDir, OperatingSystem.IsWindows() ? "mtmd.dll" : OperatingSystem.IsMacOS() ? "libmtmd.dylib" : "libmtmd.so");
                config.WithLibrary(llama, File.Exists(mtmd) ? mtmd : null);
                config.WithSearchDirectory(nativeLibDir);
                ResolveOwnImportsFrom(nativeLibDir, llama);
            }

            if (logger is not null)
            {
                config.WithLogCallback(logger);
            }
            else
            {
                config.WithLogCallback((level, message) => { });
            }
        }
    }

    /// <summary>
    /// This assembly's own imports ("llama", "ggml-base": <see cref="NativeSamplers"/>, <see cref="GgmlDevices"/>) bind to
    /// the libraries in <paramref name="nativeLibDir"/> too. Without it they resolve only where the loaded library's
    /// soname happens to equal the bare file name (LLamaSharp's packaged builds); a llama.cpp built with CMake's
    /// versioned sonames (libllama.so.0) would leave them unresolved, the GPU memory query silently empty.
    /// </summary>
    private static void ResolveOwnImportsFrom(string nativeLibDir, string llamaPath)
    {
        var ggmlBase = Path.Combine(nativeLibDir, OperatingSystem.IsWindows() ? "ggml-base.dll" : OperatingSystem.IsMacOS() ? "libggml-base.dylib" : "libggml-base.so");
        NativeLibrary.SetDllImportResolver(typeof(LlamaBackend).Assembly, (name, _, _) => name switch
        {
            "llama" => NativeLibrary.Load(llamaPath),
            "ggml-base" when File.Exists(ggmlBase) => NativeLibrary.Load(ggmlBase),
            _ => IntPtr.Zero,
        });
    }

    public long AvailableMemoryBytes(bool offloadToGpu)
    {
        if (offloadToGpu && TryGetGpuMemory(out var free, out _))
        {
            return free;
        }

        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    public LoadedModel Load(ModelLoadSpec spec)
    {
        var kvType = spec.KvType switch
        {
            "q8_0" => GGMLType.GGML_TYPE_Q8_0,
            "q4_0" => GGMLType.GGML_TYPE_Q4_0,
            "f32" => GGMLType.GGML_TYPE_F32,
            _ => GGMLType.GGML_TYPE_F16,
        };
        var threads = spec.Threads > 0 ? spec.Threads : Environment.ProcessorCount;
        var parameters = new ModelParams(spec.Path)
        {
            ContextSize = checked((uint)(spec.SequenceContextSize * spec.Parallel)),
            SeqMax = (uint)spec.Parallel,
            BatchSize = (uint)spec.BatchSize,
            UBatchSize = (uint)spec.BatchSize,
            GpuLayerCount = spec.GpuLayers < 0 ? 999 : spec.GpuLayers,
            FlashAttention = spec.FlashAttention,
            TypeK = kvType,
            TypeV = kvType,
            Threads = threads,
            BatchThreads = threads,
            KVUnified = false,
            LoadMode = spec.Mmap ? LLamaLoadMode.MemoryMap : LLamaLoadMode.None,
        };

        var weights = LLamaWeights.LoadFromFile(parameters);
        try
        {
            var context = weights.CreateContext(parameters);
            var tokenizer = new LlamaTokenizer(weights.NativeHandle);
            var runner = new LlamaModelRunner(context, tokenizer.VocabSize, spec.SequenceContextSize, spec.Parallel, spec.BatchSize);
            LlamaEmbeddingRunner? embeddings;
            try
            {
                embeddings = spec.Embeddings ? CreateEmbeddingRunner(weights, parameters, spec, tokenizer.VocabSize) : null;
            }
            catch
            {
                runner.Dispose();
                throw;
            }

            var constraints = new LlamaConstraintFactory(weights.NativeHandle, tokenizer.VocabSize);
            return new LoadedModel(runner, tokenizer, weights, constraints, embeddings);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A second context for embeddings: one sequence, mean pooling, and a batch as large as the context so a
    /// whole input is decoded in one ubatch (pooling needs all of a sequence's tokens at once).
    /// </summary>
    /// <summary>The vocabulary alone (llama.cpp's vocab_only load: no tensors, no context) for a server-side tokenizer.</summary>
    public LoadedVocabulary? LoadVocabulary(string path)
    {
        var weights = LLamaWeights.LoadFromFile(new ModelParams(path) { VocabOnly = true, GpuLayerCount = 0 });
        try
        {
            return new LoadedVocabulary(new LlamaTokenizer(weights.NativeHandle), weights);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    private static LlamaEmbeddingRunner CreateEmbeddingRunner(LLamaWeights weights, ModelParams generation, ModelLoadSpec spec, int vocabSize)
    {
        var size = (uint)spec.SequenceContextSize;
        var parameters = new ModelParams(spec.Path)
        {
            ContextSize = size,
            SeqMax = 1,
            BatchSize = size,
            UBatchSize = size,
            GpuLayerCount = generation.GpuLayerCount,
            FlashAttention = generation.FlashAttention,
            Threads = generation.Threads,
            BatchThreads = generation.BatchThreads,
            Embeddings = true,
            PoolingType = LLamaPoolingType.Mean,
        };
        var context = weights.CreateContext(parameters);
        return new LlamaEmbeddingRunner(context, vocabSize, weights.EmbeddingSize, spec.SequenceContextSize);
    }

    private static string Describe()
    {
        var text = new StringBuilder();
        var devices = (int)NativeApi.ggml_backend_dev_count();
        var names = new List<string>();
        for (var i = 0; i < devices; i++)
        {
            var device = NativeApi.ggml_backend_dev_get((nuint)i);
            names.Add(Marshal.PtrToStringUTF8(NativeApi.ggml_backend_dev_name(device)) ?? "?");
        }

        text.Append("llama.cpp via LLamaSharp; devices: ").Append(names.Count > 0 ? string.Join(", ", names) : "none");
        text.Append("; GPU offload ").Append(NativeApi.llama_supports_gpu_offload() ? "supported" : "not supported");
        if (TryGetGpuMemory(out var free, out var total))
        {
            text.Append("; GPU memory ").Append(free >> 20).Append(" MiB free of ").Append(total >> 20).Append(" MiB");
        }

        text.Append("; library: ").Append(LoadedLibraryPath() ?? "unknown");
        text.Append("; system: ").Append(SystemInfoText());
        return text.ToString();
    }

    /// <summary>Where the loaded libllama lives (from /proc/self/maps on Linux), so logs show which build runs.</summary>
    private static string? LoadedLibraryPath()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps))
        {
            return null;
        }

        return File.ReadLines(maps)
            .Select(line => line.IndexOf('/', StringComparison.Ordinal) is var i and >= 0 ? line[i..] : "")
            .FirstOrDefault(path => Path.GetFileName(path).StartsWith("libllama", StringComparison.Ordinal));
    }

    private static string SystemInfoText()
    {
        try
        {
            var ptr = NativeApi.llama_print_system_info();
            return Marshal.PtrToStringUTF8(ptr)?.Trim() ?? "";
        }
#pragma warning disable CA1031 // descriptive only
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return "unavailable (" + ex.Message + ")";
        }
    }

    /// <summary>Free/total memory summed over the GPUs llama.cpp uses (false when there is none).</summary>
    private static bool TryGetGpuMemory(out long free, out long total)
    {
        var gpus = EnumerateGpus();
        free = gpus.Sum(g => g.FreeBytes);
        total = gpus.Sum(g => g.TotalBytes);
        return total > 0;
    }

    public IReadOnlyList<GpuDevice> GpuDevices() => EnumerateGpus();

    /// <summary>
    /// The GPUs llama.cpp offloads to when no device list is given: every discrete GPU, or the first integrated GPU
    /// when there is no discrete one; free and total memory through ggml's device API (none when it is unavailable).
    /// </summary>
    private static List<GpuDevice> EnumerateGpus()
    {
        var discrete = new List<GpuDevice>();
        GpuDevice? integrated = null;
        try
        {
            var devices = (int)NativeApi.ggml_backend_dev_count();
            for (var i = 0; i < devices; i++)
            {
                var device = NativeApi.ggml_backend_dev_get((nuint)i);
                var type = GgmlDevices.ggml_backend_dev_type(device);
                if (type is not (GgmlDevices.TypeGpu or GgmlDevices.TypeIntegratedGpu))
                {
                    continue;
                }

                GgmlDevices.ggml_backend_dev_memory(device, out var f, out var t);
                var name = Marshal.PtrToStringUTF8(NativeApi.ggml_backend_dev_name(device)) ?? "?";
                if (type == GgmlDevices.TypeGpu)
                {
                    discrete.Add(new GpuDevice(discrete.Count, name, (long)f, (long)t));
                }
                else
                {
                    integrated ??= new GpuDevice(0, name, (long)f, (long)t);
                }
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return [];
        }

        return discrete.Count > 0 ? discrete : integrated is { TotalBytes: > 0 } only ? [only] : [];
    }
}
