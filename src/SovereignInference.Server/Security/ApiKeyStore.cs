using System.Globalization;
using System.Security.Cryptography;
using System.Text;

using SovereignInference.Server.Hosting;

namespace SovereignInference.Server.Security;

/// <summary>
/// The configured API keys, held as SHA-256 hashes. A presented key is hashed and compared with every
/// stored hash in constant time, so neither a key nor which key matched leaks through timing.
/// </summary>
public sealed class ApiKeyStore
{
    private readonly ApiKey[] _keys;

    public ApiKeyStore(IEnumerable<ApiKey> keys)
    {
        _keys = keys.ToArray();
        var duplicate = _keys.GroupBy(k => k.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ConfigurationException($"API key name '{duplicate.Key}' is configured more than once");
        }

        ByName = _keys.ToDictionary(k => k.Name, StringComparer.Ordinal);
    }

    /// <summary>No keys: authentication is off (only allowed on loopback listeners).</summary>
    public bool IsEmpty => _keys.Length == 0;

    public IReadOnlyList<ApiKey> Keys => _keys;

    public IReadOnlyDictionary<string, ApiKey> ByName { get; }

    /// <summary>Finds the key whose hash matches <paramref name="presented"/>.</summary>
    public ApiKey? Authenticate(string presented)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        ApiKey? found = null;
        foreach (var key in _keys)
        {
            // Every key is compared, whatever matched before.
            if (CryptographicOperations.FixedTimeEquals(hash, key.Sha256))
            {
                found = key;
            }
        }

        return found;
    }

    /// <summary>Loads the keys of configuration and of the key file; throws with a clear message on bad entries.</summary>
    public static ApiKeyStore Load(SecurityOptions options)
    {
        var keys = new List<ApiKey>();
        var fileKeys = string.IsNullOrWhiteSpace(options.ApiKeyFile) ? [] : ReadKeyFile(options.ApiKeyFile).ToList();
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var c = options.ApiKeys[i];
            var where = $"Sovereign:ApiKeys:{i}";
            if (string.IsNullOrWhiteSpace(c.Name) || c.Name.Contains(':', StringComparison.Ordinal))
            {
                throw new ConfigurationException($"{where}:Name must be set and must not contain ':'");
            }

            if (!string.IsNullOrEmpty(c.Key) && !string.IsNullOrEmpty(c.KeySha256))
            {
                throw new ConfigurationException($"{where} ('{c.Name}') gives both Key and KeySha256; give one");
            }

            if (c.RequestsPerMinute < 0 || c.MaxConcurrentStreams < 0 || c.TokensPerMinute < 0 || c.Priority < 1)
            {
                throw new ConfigurationException($"{where} ('{c.Name}'): limits must be 0 (unlimited) or more and Priority at least 1");
            }

            byte[] hash;
            if (!string.IsNullOrEmpty(c.Key))
            {
                hash = SHA256.HashData(Encoding.UTF8.GetBytes(c.Key));
            }
            else if (!string.IsNullOrEmpty(c.KeySha256))
            {
                hash = ParseHash(c.KeySha256, $"{where}:KeySha256");
            }
            else
            {
                // Limits only, for a key of the key file with the same name.
                var index = fileKeys.FindIndex(k => k.Name == c.Name);
                if (index < 0)
                {
                    throw new ConfigurationException($"{where} ('{c.Name}') has no Key or KeySha256 and no key of that name is in Sovereign:ApiKeyFile");
                }

                hash = fileKeys[index].Sha256;
                fileKeys.RemoveAt(index);
            }

            keys.Add(new ApiKey(c.Name, hash, c.RequestsPerMinute, c.MaxConcurrentStreams, c.TokensPerMinute, c.Priority, c.Admin));
        }

        keys.AddRange(fileKeys);
        return new ApiKeyStore(keys);
    }

    /// <summary>Reads "name:sha256hex" lines; blank lines and lines starting with '#' are skipped.</summary>
    public static IEnumerable<ApiKey> ReadKeyFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new ConfigurationException($"API key file '{path}' (Sovereign:ApiKeyFile) does not exist");
        }

        var lines = File.ReadAllLines(path);
        var keys = new List<ApiKey>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var colon = line.LastIndexOf(':');
            if (colon <= 0)
            {
                throw new ConfigurationException($"{path}:{i + 1}: expected 'name:sha256hex'");
            }

            keys.Add(new ApiKey(line[..colon].Trim(), ParseHash(line[(colon + 1)..].Trim(), $"{path}:{i + 1}"), 0, 0, 0, 1));
        }

        return keys;
    }

    /// <summary>The hex SHA-256 of a key, as written into a key file.</summary>
    public static string HashHex(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static byte[] ParseHash(string hex, string where)
    {
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
        {
            throw new ConfigurationException($"{where}: a SHA-256 must be 64 hex digits");
        }

        return Convert.FromHexString(hex.ToLower(CultureInfo.InvariantCulture));
    }
}
