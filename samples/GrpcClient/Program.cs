// Streams a completion from a running `sovereign serve` over gRPC and prints each text delta as it arrives.
//
//   dotnet run --project samples/GrpcClient -- [--url http://127.0.0.1:8081] [--model ID] [--max-tokens N] [prompt...]
//
// Without --model the first ready model is used. Ctrl+C cancels the call; the server drops the sequence at once.
using Grpc.Core;
using Grpc.Net.Client;
using SovereignInference.Contracts.V1;

var url = "http://127.0.0.1:8081";
string? model = null;
var maxTokens = 128;
var words = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--url": url = args[++i]; break;
        case "--model": model = args[++i]; break;
        case "--max-tokens": maxTokens = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        default: words.Add(args[i]); break;
    }
}

var prompt = words.Count > 0 ? string.Join(' ', words) : "[INST] Say hello [/INST]";
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

using var channel = GrpcChannel.ForAddress(url);
var client = new Inference.InferenceClient(channel);
try
{
    model ??= (await client.ListModelsAsync(new ListModelsRequest(), cancellationToken: cancel.Token)).Models
        .FirstOrDefault(m => m.State == ModelState.Ready)?.Id
        ?? throw new InvalidOperationException("the server has no ready model");

    var request = new GenerateRequest
    {
        Model = model,
        Text = prompt,
        Sampling = new SamplingParams { Temperature = 0, MaxTokens = maxTokens },
    };

    using var call = client.Generate(request, cancellationToken: cancel.Token);
    await foreach (var response in call.ResponseStream.ReadAllAsync(cancel.Token))
    {
        Console.Write(response.Text);
        if (response.Final is { } final)
        {
            Console.WriteLine();
            Console.Error.WriteLine(
                $"[{model}] finish={final.FinishReason} prompt={final.Usage.PromptTokens} completion={final.Usage.CompletionTokens} " +
                $"cached={final.Usage.CachedPromptTokens} ttft={final.Timings.TimeToFirstToken.ToTimeSpan().TotalMilliseconds:0.#}ms " +
                $"decode={final.Timings.Decode.ToTimeSpan().TotalMilliseconds:0.#}ms");
        }
    }

    return 0;
}
catch (RpcException ex)
{
    Console.Error.WriteLine($"error: {ex.StatusCode}: {ex.Status.Detail}");
    return 1;
}
