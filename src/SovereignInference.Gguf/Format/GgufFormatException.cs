namespace SovereignInference.Gguf;

/// <summary>
/// Thrown when a GGUF file fails validation. <see cref="Error"/> identifies the kind of failure and
/// the message names the file and the reason.
/// </summary>
public sealed class GgufFormatException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public GgufFormatException()
        : this(GgufError.InvalidValue, "<unknown>", "invalid GGUF file")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    public GgufFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and inner exception.</summary>
    public GgufFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for <paramref name="fileName"/> failing with <paramref name="error"/>.</summary>
    public GgufFormatException(GgufError error, string fileName, string reason, long? offset = null)
        : base(FormatMessage(error, fileName, reason, offset))
    {
        Error = error;
        FileName = fileName;
        Reason = reason;
        Offset = offset;
    }

    /// <summary>The kind of validation failure.</summary>
    public GgufError Error { get; }

    /// <summary>The file (or stream description) that was rejected.</summary>
    public string FileName { get; } = "<unknown>";

    /// <summary>The human-readable reason, without the file name.</summary>
    public string Reason { get; } = "";

    /// <summary>The byte offset at which the problem was detected, when known.</summary>
    public long? Offset { get; }

    private static string FormatMessage(GgufError error, string fileName, string reason, long? offset) =>
        offset is { } at
            ? $"Invalid GGUF file '{fileName}' ({error} at byte {at}): {reason}"
            : $"Invalid GGUF file '{fileName}' ({error}): {reason}";
}
