using System.Globalization;
using System.Text;
using System.Text.Json;
using SovereignInference.Engine.Observability;

namespace SovereignInference.Server.Observability;

/// <summary>
/// One JSON line per engine call: time, key name, model id and SHA-256, token counts, latency, status and
/// finish reason; the prompt and completion text only when asked for. Written to stdout or to daily files
/// audit-yyyy-MM-dd.jsonl in a directory, where files older than the retention are deleted. The last
/// <see cref="RecentCapacity"/> lines written are also kept in memory (<see cref="Recent"/>, GET /admin/audit).
/// </summary>
internal sealed partial class AuditLog : IDisposable
{
    public const string FilePrefix = "audit-";
    public const string FileSuffix = ".jsonl";

    /// <summary>How many of the latest lines <see cref="Recent"/> can return.</summary>
    public const int RecentCapacity = 200;
    private readonly Queue<string> _recent = new(RecentCapacity);
    private readonly Lock _lock = new();
    private readonly AuditConfig _config;
    private readonly ILogger<AuditLog> _logger;
    private readonly bool _stdout;
    private StreamWriter? _file;
    private DateOnly _fileDay;

    public AuditLog(ObservabilityOptions options, ILogger<AuditLog> logger)
    {
        _config = options.Audit;
        _logger = logger;
        _stdout = string.Equals(_config.Path, "stdout", StringComparison.OrdinalIgnoreCase);
        if (IsEnabled && !_stdout)
        {
            Directory.CreateDirectory(_config.Path!);
        }
    }

    public bool IsEnabled => !string.IsNullOrWhiteSpace(_config.Path);

    public bool IncludeText => _config.IncludeText;

    public void Write(GenerationRecord record)
    {
        var line = Format(record, _config.IncludeText);
        lock (_lock)
        {
            if (_recent.Count == RecentCapacity)
            {
                _recent.Dequeue();
            }

            _recent.Enqueue(line);
            try
            {
                if (_stdout)
                {
                    Console.Out.WriteLine(line);
                    Console.Out.Flush();
                    return;
                }

                WriterFor(DateOnly.FromDateTime(record.Started.UtcDateTime)).WriteLine(line);
            }
            catch (IOException ex)
            {
                LogWriteFailed(_logger, ex, _config.Path!);
            }
        }
    }

    /// <summary>The latest <paramref name="limit"/> lines written (at most <see cref="RecentCapacity"/>), oldest first.</summary>
    public IReadOnlyList<string> Recent(int limit)
    {
        lock (_lock)
        {
            return [.. _recent.Skip(Math.Max(0, _recent.Count - limit))];
        }
    }

    public static string Format(GenerationRecord record, bool includeText)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", record.Started.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("key", record.Request.User);
            json.WriteString("model", record.ModelId);
            json.WriteString("model_sha256", record.ModelSha256);
            json.WriteNumber("prompt_tokens", record.PromptTokens);
            json.WriteNumber("completion_tokens", record.CompletionTokens);
            json.WriteNumber("cached_prompt_tokens", record.CachedPromptTokens);
            json.WriteNumber("latency_ms", Math.Round(record.Elapsed.TotalMilliseconds, 3));
            if (record.Timings is { } t)
            {
                json.WriteNumber("queue_ms", Math.Round(t.QueueWait.TotalMilliseconds, 3));
                json.WriteNumber("ttft_ms", Math.Round(t.TimeToFirstToken.TotalMilliseconds, 3));
            }

            json.WriteString("status", record.Status);
            json.WriteString("finish_reason", record.Finish is { } f ? GenerationRecord.Label(f) : null);
            if (includeText)
            {
                if (record.Request.Prompt is { } prompt)
                {
                    json.WriteString("prompt", prompt);
                }
                else if (record.Request.PromptTokens is { } ids)
                {
                    json.WriteStartArray("prompt_token_ids");
                    foreach (var id in ids)
                    {
                        json.WriteNumberValue(id);
                    }

                    json.WriteEndArray();
                }

                json.WriteString("completion", record.CompletionText);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file?.Dispose();
            _file = null;
        }
    }

    private StreamWriter WriterFor(DateOnly day)
    {
        if (_file is not null && day == _fileDay)
        {
            return _file;
        }

        _file?.Dispose();
        _fileDay = day;
        var path = Path.Combine(_config.Path!, FilePrefix + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + FileSuffix);
        _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        DeleteExpired(day);
        return _file;
    }

    private void DeleteExpired(DateOnly today)
    {
        if (_config.RetentionDays <= 0)
        {
            return;
        }

        var oldest = today.AddDays(-_config.RetentionDays + 1);
        foreach (var file in Directory.EnumerateFiles(_config.Path!, FilePrefix + "*" + FileSuffix))
        {
            var name = Path.GetFileName(file);
            var date = name[FilePrefix.Length..^FileSuffix.Length];
            if (DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && day < oldest)
            {
                File.Delete(file);
                LogDeleted(_logger, file);
            }
        }
    }

    [LoggerMessage(EventId = ServerEventIds.AuditWriteFailed, Level = LogLevel.Error, Message = "Could not write the audit log under {Path}")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = ServerEventIds.AuditFileExpired, Level = LogLevel.Information, Message = "Deleted expired audit file {File}")]
    private static partial void LogDeleted(ILogger logger, string file);
}
