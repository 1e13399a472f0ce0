using Microsoft.Extensions.Logging.Abstractions;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;
using SovereignInference.LlamaCpp;

namespace SovereignInference.Tests.TestSupport;

/// <summary>A real engine (LLamaSharp CPU backend) over generated models, for integration tests.</summary>
public sealed class EngineHarness : IAsyncDisposable
{
    private EngineHarness(InferenceEngine engine) => Engine = engine;

    public InferenceEngine Engine { get; }

    public ModelScheduler Scheduler(string model) => Engine.GetReadyModel(model).Scheduler!;

    /// <param name="backend">The backend (default: the real LLamaSharp one).</param>
    /// <remarks>With <see cref="EngineOptions.LoadOnDemand"/> only pinned and preloaded models load at start.</remarks>
    public static async Task<EngineHarness> StartAsync(EngineOptions options, IModelBackend? backend = null)
    {
        options.DemoModelWhenEmpty = false;
        if (options.Threads == 0)
        {
            options.Threads = Math.Min(2, Environment.ProcessorCount);
        }

        var engine = new InferenceEngine(options, backend ?? new LlamaBackend(), NullLoggerFactory.Instance);
        if (options.LoadOnDemand)
        {
            await engine.StartAsync();
        }
        else
        {
            await engine.LoadAllAsync();
        }

        return new EngineHarness(engine);
    }

    /// <summary>Runs a request to its end and gathers what a client would see.</summary>
    public async Task<GenerationResult> RunAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var updates = new List<GenerationUpdate>();
        await foreach (var update in Engine.GenerateAsync(request, cancellationToken))
        {
            updates.Add(update);
        }

        return new GenerationResult(updates);
    }

    public static GenerationRequest Greedy(string model, IReadOnlyList<int> prompt, int maxTokens) => new()
    {
        Model = model,
        PromptTokens = prompt,
        MaxTokens = maxTokens,
        Sampling = new SamplingParams { Temperature = 0 },
    };

    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:0.#}s waiting for: {what}");
            }

            await Task.Delay(5);
        }
    }

    public async ValueTask DisposeAsync() => await Engine.DisposeAsync();
}

/// <summary>All updates of one generation.</summary>
public sealed record GenerationResult(IReadOnlyList<GenerationUpdate> Updates)
{
    public string Text => string.Concat(Updates.Select(u => u.Text));

    public IReadOnlyList<int> Tokens => Updates.SelectMany(u => u.Tokens).Select(t => t.Token).ToArray();

    public GenerationUpdate Final => Updates[^1];

    public FinishReason? Finish => Final.Finish;
}
