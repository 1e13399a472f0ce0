namespace SovereignInference.Engine.Hosting;

/// <summary>Turns options into the list of models to load: every *.gguf of the directory plus explicit paths.</summary>
public static class ModelCatalog
{
    public static IReadOnlyList<ModelEntry> Discover(EngineOptions options)
    {
        var paths = new List<string>();
        if (Directory.Exists(options.ModelsDir))
        {
            paths.AddRange(Directory.EnumerateFiles(options.ModelsDir, "*.gguf").Order(StringComparer.Ordinal));
        }

        paths.AddRange(options.Model.Where(p => !string.IsNullOrWhiteSpace(p)));

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
                entry.Error = $"{full}: model id '{id}' is already used by another file; configure an alias";
            }

            entries.Add(entry);
        }

        return entries;
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
