using System.Globalization;

namespace SovereignInference.Bench.Targets;

/// <summary>Why one benchmark request failed. Reported as "errors by status" (<see cref="BenchFailureKeys"/>).</summary>
internal enum BenchFailure
{
    /// <summary>The HTTP endpoint answered with a non-2xx status (the key carries the status code).</summary>
    HttpStatus,

    /// <summary>The gRPC call ended with a non-OK status (the key carries the status code name).</summary>
    GrpcStatus,

    /// <summary>The server sent an error event or an error object inside a 200 stream.</summary>
    StreamError,

    /// <summary>The stream ended before a finish reason or <c>[DONE]</c>.</summary>
    Truncated,

    /// <summary>The response could not be read as OpenAI JSON.</summary>
    MalformedResponse,

    /// <summary>The connection failed (refused, reset, DNS).</summary>
    Connection,

    /// <summary>The request ran past the client timeout.</summary>
    Timeout,
}

/// <summary>The one place a <see cref="BenchFailure"/> becomes the key it is counted under.</summary>
internal static class BenchFailureKeys
{
    public static string Key(BenchFailure failure, string? status = null) => failure switch
    {
        BenchFailure.HttpStatus => string.Create(CultureInfo.InvariantCulture, $"http {status}"),
        BenchFailure.GrpcStatus => string.Create(CultureInfo.InvariantCulture, $"grpc {status}"),
        BenchFailure.StreamError => "stream error",
        BenchFailure.Truncated => "truncated",
        BenchFailure.MalformedResponse => "malformed response",
        BenchFailure.Connection => "connection",
        BenchFailure.Timeout => "timeout",
        _ => throw new ArgumentOutOfRangeException(nameof(failure)),
    };
}
