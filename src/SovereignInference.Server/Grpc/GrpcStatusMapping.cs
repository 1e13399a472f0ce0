using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Server.Grpc;

/// <summary>
/// The one place engine failures become gRPC statuses. Client input never maps to UNKNOWN or INTERNAL:
/// <list type="table">
/// <item><term>InvalidArgument, PromptTooLong</term><description>INVALID_ARGUMENT naming the proto field, with a google.rpc.BadRequest detail</description></item>
/// <item><term>ModelNotFound</term><description>NOT_FOUND</description></item>
/// <item><term>Overloaded</term><description>RESOURCE_EXHAUSTED with a "retry-after-ms" trailer and a google.rpc.RetryInfo detail</description></item>
/// <item><term>ModelNotReady, ShuttingDown</term><description>UNAVAILABLE</description></item>
/// <item><term>BackendFailure</term><description>INTERNAL (the native backend failed; the server keeps serving)</description></item>
/// <item><term>deadline passed / client cancelled</term><description>DEADLINE_EXCEEDED / CANCELLED</description></item>
/// </list>
/// </summary>
public static class GrpcStatusMapping
{
    /// <summary>Trailer with the suggested retry delay in whole milliseconds (RESOURCE_EXHAUSTED from a full queue).</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    /// <summary>The trailer grpc-status-details-bin carrying a serialized google.rpc.Status.</summary>
    private const string StatusDetailsTrailer = "grpc-status-details-bin";

    /// <summary>Engine parameter names (OpenAI's) that live inside the proto's SamplingParams message.</summary>
    private static readonly Dictionary<string, string> FieldPaths = new(StringComparer.Ordinal)
    {
        ["temperature"] = "sampling.temperature",
        ["top_k"] = "sampling.top_k",
        ["top_p"] = "sampling.top_p",
        ["min_p"] = "sampling.min_p",
        ["seed"] = "sampling.seed",
        ["repeat_penalty"] = "sampling.repeat_penalty",
        ["repeat_last_n"] = "sampling.repeat_last_n",
        ["frequency_penalty"] = "sampling.frequency_penalty",
        ["presence_penalty"] = "sampling.presence_penalty",
        ["logit_bias"] = "sampling.logit_bias",
        ["max_tokens"] = "sampling.max_tokens",
        ["stop"] = "sampling.stop",
        ["top_logprobs"] = "sampling.logprobs",
        ["logprobs"] = "sampling.logprobs",
    };

    /// <summary>The gRPC status code of an engine error.</summary>
    public static StatusCode ToStatusCode(EngineErrorCode code) => code switch
    {
        EngineErrorCode.InvalidArgument or EngineErrorCode.PromptTooLong => StatusCode.InvalidArgument,
        EngineErrorCode.ModelNotFound => StatusCode.NotFound,
        EngineErrorCode.Overloaded => StatusCode.ResourceExhausted,
        EngineErrorCode.ModelNotReady or EngineErrorCode.ShuttingDown => StatusCode.Unavailable,
        EngineErrorCode.BackendFailure => StatusCode.Internal,
        _ => StatusCode.Internal,
    };

    /// <summary>The proto field path of an engine parameter name ("top_p" → "sampling.top_p").</summary>
    public static string ToFieldPath(string param) => FieldPaths.GetValueOrDefault(param, param);

    /// <summary>The exception to end a call with, carrying the field, retry hint and rich status details.</summary>
    public static RpcException ToRpcException(EngineException error)
    {
        var code = ToStatusCode(error.Code);
        var message = error.Message;
        var details = new Google.Rpc.Status { Code = (int)code };
        var trailers = new Metadata();

        if (error.Param is { Length: > 0 } param && code == StatusCode.InvalidArgument)
        {
            var field = ToFieldPath(param);
            if (!message.Contains(field, StringComparison.Ordinal))
            {
                message = $"{field}: {message}";
            }

            details.Details.Add(Any.Pack(new BadRequest
            {
                FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = error.Message } },
            }));
        }

        if (error.Code == EngineErrorCode.Overloaded)
        {
            var delay = error.RetryAfter ?? TimeSpan.FromSeconds(1);
            trailers.Add(RetryAfterTrailer, ((long)Math.Ceiling(delay.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture));
            details.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(delay) }));
        }

        details.Message = message;
        if (details.Details.Count > 0)
        {
            trailers.Add(StatusDetailsTrailer, details.ToByteArray());
        }

        return new RpcException(new global::Grpc.Core.Status(code, message), trailers);
    }

    /// <summary>DEADLINE_EXCEEDED when the call's deadline has passed, otherwise CANCELLED.</summary>
    public static RpcException Cancelled(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Deadline <= DateTime.UtcNow
            ? new RpcException(new global::Grpc.Core.Status(StatusCode.DeadlineExceeded, "the deadline passed; generation was stopped"))
            : new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "the call was cancelled; generation was stopped"));
    }
}
