using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using SovereignInference.Contracts.V1;

namespace SovereignInference.Bench.Targets;

/// <summary>
/// Drives our gRPC API, <c>sovereign.inference.v1.Inference/Generate</c>, the way <see cref="OpenAiCompletionsTarget"/>
/// drives HTTP: text prompt, greedy, max_tokens with ignore_eos. Every streamed response that carries token ids is one
/// output event (stamped when <c>MoveNext</c> returned) of that many tokens; the <c>final</c> message's usage gives
/// the counts. A non-OK status is counted under its code name ("grpc ResourceExhausted").
/// </summary>
internal sealed class GrpcGenerateTarget : IBenchTarget
{
    private readonly GrpcChannel _channel;
    private readonly Inference.InferenceClient _client;
    private readonly TargetSettings _settings;
    private readonly Metadata _headers = [];

    public GrpcGenerateTarget(Uri address, TargetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        Endpoint = address.ToString();
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = null,
            // More than 100 concurrent calls (Kestrel's default stream limit per connection) open more connections.
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionLifetime = Timeout.InfiniteTimeSpan },
        });
        _client = new Inference.InferenceClient(_channel);
        if (!string.IsNullOrEmpty(settings.ApiKey))
        {
            _headers.Add("authorization", $"Bearer {settings.ApiKey}");
        }
    }

    public string Transport => "grpc";

    public string Endpoint { get; }

    /// <summary>The request sent for <paramref name="prompt"/>.</summary>
    public GenerateRequest Request(BenchPrompt prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = prompt.MaxTokens, IgnoreEos = _settings.IgnoreEos };
        if (_settings.Seed is { } seed)
        {
            sampling.Seed = unchecked((ulong)seed);
        }

        return new GenerateRequest { Model = _settings.Model, Text = prompt.Text, Sampling = sampling };
    }

    public async Task<RequestTrace> SendAsync(BenchPrompt prompt, CancellationToken cancellationToken)
    {
        var request = Request(prompt);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Timeout);
        var trace = new RequestTrace(Stopwatch.GetTimestamp());
        try
        {
            using var call = _client.Generate(request, _headers, cancellationToken: timeout.Token);
            var stream = call.ResponseStream;
            while (await stream.MoveNext(timeout.Token))
            {
                var now = Stopwatch.GetTimestamp();
                var response = stream.Current;
                if (response.TokenIds.Count > 0)
                {
                    trace.AddEvent(now, response.TokenIds.Count);
                }

                if (response.Final is { } final)
                {
                    if (final.Usage is { } usage)
                    {
                        trace.UsageCompletionTokens = usage.CompletionTokens;
                        trace.UsagePromptTokens = usage.PromptTokens;
                    }

                    trace.Complete(now);
                    return trace;
                }
            }

            trace.Fail(Stopwatch.GetTimestamp(), BenchFailure.Truncated, null, "the stream ended without a final message");
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            if (timeout.IsCancellationRequested)
            {
                trace.Fail(Stopwatch.GetTimestamp(), BenchFailure.Timeout, null, $"no complete response within {_settings.Timeout.TotalSeconds:0} s");
            }
            else
            {
                trace.Fail(Stopwatch.GetTimestamp(), BenchFailure.GrpcStatus, e.StatusCode.ToString(), e.Status.Detail);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            trace.Fail(Stopwatch.GetTimestamp(), BenchFailure.Timeout, null, $"no complete response within {_settings.Timeout.TotalSeconds:0} s");
        }

        return trace;
    }

    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
