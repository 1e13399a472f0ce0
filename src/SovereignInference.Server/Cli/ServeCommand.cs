using System.CommandLine;
using System.Globalization;
using SovereignInference.Server.Hosting;

namespace SovereignInference.Server.Cli;

/// <summary>
/// `sovereign serve`: every option maps to a configuration key under "Sovereign" (appsettings.json,
/// environment variables such as Sovereign__Parallel=8); an option given on the command line wins.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Load GGUF models and serve the HTTP (OpenAI-compatible) and gRPC APIs.");
        var bindings = new List<Func<ParseResult, KeyValuePair<string, string?>[]>>();

        void Add<T>(string name, string key, string description)
        {
            var option = new Option<T>(name) { Description = description };
            command.Options.Add(option);
            bindings.Add(result =>
            {
                if (result.GetResult(option) is not { Implicit: false })
                {
                    return [];
                }

                var value = result.GetValue(option) switch
                {
                    bool b => b ? "true" : "false",
                    var v => Convert.ToString(v, CultureInfo.InvariantCulture),
                };
                return [new($"{ServerOptions.Section}:{key}", value)];
            });
        }

        Add<string>("--models-dir", "ModelsDir", "Directory scanned for *.gguf (default ./models).");
        var model = new Option<string[]>("--model") { Description = "A GGUF file to serve (repeatable).", AllowMultipleArgumentsPerToken = false };
        command.Options.Add(model);
        bindings.Add(result => (result.GetValue(model) ?? []).Select((path, i) => new KeyValuePair<string, string?>($"{ServerOptions.Section}:Model:{i}", path)).ToArray());
        var embeddings = new Option<string[]>("--embeddings") { Description = "Model id that also serves /v1/embeddings (repeatable).", AllowMultipleArgumentsPerToken = false };
        command.Options.Add(embeddings);
        bindings.Add(result => (result.GetValue(embeddings) ?? []).Select((id, i) => new KeyValuePair<string, string?>($"{ServerOptions.Section}:Embeddings:{i}", id)).ToArray());
        var chatTemplate = new Option<string[]>("--chat-template")
        {
            Description = "Chat template NAME|FILE for every model, or MODEL=NAME|FILE for one (repeatable). Names: " + string.Join(", ", Engine.Chat.ChatTemplates.Names) + "; a FILE holds a Jinja template.",
            AllowMultipleArgumentsPerToken = false,
        };
        command.Options.Add(chatTemplate);
        bindings.Add(result => (result.GetValue(chatTemplate) ?? []).Select(ChatTemplateSetting).ToArray());
        Add<string>("--http-url", "HttpUrl", "HTTP listen URL (default http://127.0.0.1:8080).");
        Add<string>("--grpc-url", "GrpcUrl", "gRPC listen URL (default http://127.0.0.1:8081).");
        Add<int?>("--grpc-max-receive-bytes", "GrpcMaxReceiveBytes", "Largest gRPC request message in bytes (default 4194304).");
        Add<int?>("--parallel", "Parallel", "Sequence slots per model (default 4).");
        Add<int?>("--ctx-size", "CtxSize", "Tokens per sequence, prompt + output (default: the model's, capped at 8192).");
        Add<int?>("--batch-size", "BatchSize", "Most tokens per decode call (default 512).");
        Add<int?>("--prefill-chunk", "PrefillChunk", "Most prompt tokens per step (default 512, as llama-server's micro-batch; at most --batch-size).");
        Add<double?>("--max-step-factor", "MaxStepFactor", "While streams generate, size prompt chunks so a step takes at most this many times a decode-only step (default 4; 0 = always --prefill-chunk).");
        Add<int?>("--queue-capacity", "QueueCapacity", "Requests that may wait for a slot (default 64).");
        Add<int?>("--gpu-layers", "GpuLayers", "Layers to offload to the GPU (0 = CPU, -1 = all).");
        Add<bool?>("--flash-attn", "FlashAttn", "Flash attention on (--flash-attn) or off (--flash-attn false); default: llama.cpp decides.");
        Add<bool?>("--mmap", "Mmap", "Map the GGUF file instead of reading the weights into memory (default off: weights in memory use transparent huge pages, which the CPU decode reads faster).");
        Add<string>("--kv-type", "KvType", "KV cache type: f16, q8_0 or q4_0.");
        Add<string>("--native-lib-dir", "NativeLibDir", "Directory holding a self-built llama.cpp to load.");
        Add<int?>("--threads", "Threads", "Decode threads (default: all cores).");
        Add<string>("--isolation", "Isolation", "Where loaded models run: process (one worker process each, the default) or inprocess.");
        Add<string>("--keep-alive", "KeepAlive", "Idle time before a model is unloaded: 5m (default), 90s, seconds; 0 = after each request; negative = never.");
        Add<string>("--memory-budget", "MemoryBudget", "Memory all loaded models may use on each device: one amount for RAM and every GPU, bytes (8G, 512M) or a percentage of what the device has free at start (80%), or by device: ram=16G,gpu0=70G,gpu1=90% (gpu= for every GPU). Default per device: free at start less 10%.");
        Add<bool?>("--load-on-demand", "LoadOnDemand", "Load models on first use (default) or all at start (--load-on-demand false).");
        var preload = new Option<string[]>("--preload") { Description = "Model id to load at start (repeatable; * = all).", AllowMultipleArgumentsPerToken = false };
        command.Options.Add(preload);
        bindings.Add(result => (result.GetValue(preload) ?? []).Select((id, i) => new KeyValuePair<string, string?>($"{ServerOptions.Section}:Preload:{i}", id)).ToArray());
        var pin = new Option<string[]>("--pin") { Description = "Model id to load at start and never evict (repeatable).", AllowMultipleArgumentsPerToken = false };
        command.Options.Add(pin);
        bindings.Add(result => (result.GetValue(pin) ?? []).Select(id => new KeyValuePair<string, string?>($"{ServerOptions.Section}:Models:{id}:Pinned", "true")).ToArray());

        // Any configuration key may also be given as --Sovereign:Key=value (or --Sovereign:Key value), the
        // ASP.NET command-line form; other unknown tokens are still errors.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, cancellationToken) =>
        {
            var configArgs = ConfigurationArguments(result.UnmatchedTokens, out var unknown);
            if (unknown is not null)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync(
                    $"Unrecognized command or argument '{unknown}'. Options are listed by 'sovereign serve --help'; a configuration key is given as --{ServerOptions.Section}:Key=value.");
                return 1;
            }

            var overrides = bindings.SelectMany(b => b(result)).ToList();
            var app = ServerHost.Build(configArgs, overrides, defaults: ServeDefaults);
            await app.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>What `serve` does unless configured otherwise: a worker process per model, loaded on first use.</summary>
    internal static readonly KeyValuePair<string, string?>[] ServeDefaults =
    [
        new($"{ServerOptions.Section}:Isolation", "process"),
        new($"{ServerOptions.Section}:LoadOnDemand", "true"),
    ];

    /// <summary>
    /// The tokens that are configuration keys under "Sovereign" (--Sovereign:Key=value, or --Sovereign:Key value),
    /// for ASP.NET's command-line configuration; <paramref name="unknown"/> is the first token that is not one.
    /// </summary>
    internal static string[] ConfigurationArguments(IReadOnlyList<string> tokens, out string? unknown)
    {
        var prefix = $"--{ServerOptions.Section}:";
        var args = new List<string>();
        unknown = null;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (!token.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || token.Length == prefix.Length)
            {
                unknown = token;
                return [];
            }

            args.Add(token);
            if (!token.Contains('=', StringComparison.Ordinal))
            {
                if (i + 1 >= tokens.Count)
                {
                    unknown = token;
                    return [];
                }

                args.Add(tokens[++i]);
            }
        }

        return [.. args];
    }

    /// <summary>--chat-template MODEL=NAME|FILE sets Sovereign:ChatTemplates:MODEL; a bare NAME|FILE (or an existing file path) sets Sovereign:ChatTemplate.</summary>
    internal static KeyValuePair<string, string?> ChatTemplateSetting(string value)
    {
        var eq = value.IndexOf('=', StringComparison.Ordinal);
        return eq > 0 && !File.Exists(value)
            ? new($"{ServerOptions.Section}:ChatTemplates:{value[..eq]}", value[(eq + 1)..])
            : new($"{ServerOptions.Section}:ChatTemplate", value);
    }
}
