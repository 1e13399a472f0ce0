using System.Reflection;
using System.Security.Cryptography;

namespace SovereignInference.Server.Http.BrowserConsole;

/// <summary>
/// The console's static files, embedded in this assembly under "console/" (wwwroot/ in the source tree) and read
/// once: name, bytes, content type and a strong ETag. Nothing is read from disk or fetched at run time.
/// </summary>
internal sealed class ConsoleFiles
{
    internal const string ResourcePrefix = "console/";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    private ConsoleFiles(IReadOnlyDictionary<string, ConsoleFile> files) => Files = files;

    /// <summary>The files by name (e.g. "index.html", "chat.js").</summary>
    public IReadOnlyDictionary<string, ConsoleFile> Files { get; }

    /// <summary>Reads every embedded console file of the server assembly.</summary>
    public static ConsoleFiles Load()
    {
        var assembly = typeof(ConsoleFiles).Assembly;
        var files = new Dictionary<string, ConsoleFile>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = resource[ResourcePrefix.Length..];
            if (!ContentTypes.TryGetValue(Path.GetExtension(name), out var contentType))
            {
                throw new InvalidOperationException($"console file '{name}' has no known content type");
            }

            files[name] = new ConsoleFile(name, Read(assembly, resource), contentType);
        }

        if (!files.ContainsKey("index.html"))
        {
            throw new InvalidOperationException("the console's index.html is not embedded in the server assembly");
        }

        return new ConsoleFiles(files);
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}

/// <summary>One console file: its bytes, content type and ETag (the first 16 bytes of its SHA-256).</summary>
internal sealed record ConsoleFile(string Name, byte[] Content, string ContentType)
{
    public string ETag { get; } = "\"" + Convert.ToHexStringLower(SHA256.HashData(Content).AsSpan(0, 16)) + "\"";
}
