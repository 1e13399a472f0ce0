using SovereignInference.Engine.Hosting;

using SovereignInference.Gguf;

namespace SovereignInference.Engine.Models;

/// <summary>Turns options into the list of models to load: every *.gguf of the directory plus explicit paths.</summary>
public static class ModelCatalog
{
    public static IReadOnlyList<ModelEntry> Discover(EngineOptions options)
    {
        var paths = Paths(options);

        var entries = new List<ModelEntry>();
        var seenPaths = new HashSet<string>(StringComparer.Ordinal);
        var seenIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            var full = System.IO.Path.GetFullPath(path);
            if (!seenPaths.Add(full))
            {
                continue;
            }

            var id = IdFor(full, options.Aliases);
            var entry = new ModelEntry(id, full);
            if (!seenIds.Add(id))
            {
                entry.State = ModelState.Failed;
                entry.Unloadable = true;
                entry.Error = $"{full}: model id '{id}' is already used by another file; configure an alias";
            }

            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>Every *.gguf of the models directory (sorted) and then every explicit --model path.</summary>
    public static List<string> Paths(EngineOptions options)
    {
        var paths = new List<string>();
        if (Directory.Exists(options.ModelsDir))
        {
            paths.AddRange(Directory.EnumerateFiles(options.ModelsDir, "*.gguf").Order(StringComparer.Ordinal));
        }

        paths.AddRange(options.Model.Where(p => !string.IsNullOrWhiteSpace(p)));
        return paths;
    }

    /// <summary>
    /// Validates <paramref name="entry"/>'s file in managed code (header, hyper-parameters, vocabulary, tensors) and
    /// estimates its memory with its settings, without loading it. A bad file marks the entry failed for good.
    /// </summary>
    public static void Describe(ModelEntry entry, EngineOptions options, Models.FreeMemory free)
    {
        entry.Settings = options.SettingsFor(entry.Id);
        try
        {
            var fileInfo = new FileInfo(entry.Path);
            entry.FileStamp = fileInfo.Exists ? (fileInfo.Length, fileInfo.LastWriteTimeUtc) : (-1, DateTime.MinValue);
            var file = GgufReader.ReadModel(entry.Path);
            var info = GgufModelInfo.From(file, entry.Path, computeSha256: true);
            entry.Info = info;
            var settings = entry.Settings;
            var context = settings.CtxSize > 0 ? settings.CtxSize.Value : (int)Math.Clamp(info.ContextLength ?? 4096, 1, 8192);
            var embeddings = options.Embeddings.Contains(entry.Id, StringComparer.Ordinal);
            entry.SupportsEmbeddings = embeddings;
            var plan = new MemoryPlan(
                info.WeightBytes,
                info.KvCacheBytesPerToken(settings.KvType!) * context,
                settings.Parallel!.Value,
                context,
                settings.KvType!,
                free.Ram,
                embeddings ? info.KvCacheBytesPerToken("f16") * context : 0);
            var shares = Models.MemorySplit.Split(plan.TotalBytes, Models.MemorySplit.GpuFraction(settings.GpuLayers!.Value, info.BlockCount), free.Ram, free.Gpus);
            entry.Plan = plan with { AvailableBytes = shares.Sum(d => d.AvailableBytes), Devices = shares };
        }
#pragma warning disable CA1031 // one bad file must not stop the catalog; the reason is recorded
        catch (Exception ex)
#pragma warning restore CA1031
        {
            entry.State = ModelState.Failed;
            entry.Unloadable = true;
            entry.Error = ex.Message.Contains(entry.Path, StringComparison.Ordinal) ? ex.Message : $"{entry.Path}: {ex.Message}";
        }
    }

    /// <summary>File name without .gguf, unless an alias names the file (by name, name without extension, or path).</summary>
    public static string IdFor(string path, IReadOnlyDictionary<string, string> aliases)
    {
        var fileName = System.IO.Path.GetFileName(path);
        var stem = fileName.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? fileName[..^5] : fileName;
        foreach (var key in new[] { path, fileName, stem })
        {
            if (aliases.TryGetValue(key, out var alias) && !string.IsNullOrWhiteSpace(alias))
            {
                return alias;
            }
        }

        return stem;
    }
}
