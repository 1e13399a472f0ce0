using System.CommandLine;
using System.Globalization;
using SovereignInference.Bench.Running;
using Spectre.Console;

namespace SovereignInference.Bench.Cli;

/// <summary>
/// `sovereign-bench bench`: load-tests a running OpenAI-compatible server (ours, llama-server, vLLM) or our gRPC API with N
/// concurrent streaming clients and reports throughput and latency percentiles (docs/bench.md). Exit codes: 0 every
/// level had a successful request, 1 a level had none, 2 bad arguments.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var url = new Option<string?>("--url") { Description = "Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080 (requests go to /v1/completions)." };
        var grpc = new Option<string?>("--grpc") { Description = "Drive the gRPC API (sovereign.inference.v1.Inference/Generate) at this URL instead, e.g. http://127.0.0.1:8081." };
        var apiKey = new Option<string?>("--api-key") { Description = "Sent as 'Authorization: Bearer KEY'." };
        var model = new Option<string>("--model") { Description = "Model id as the server lists it.", Required = true };
        var concurrency = new Option<string>("--concurrency") { Description = "Comma-separated concurrency levels, run in order.", DefaultValueFactory = _ => "1" };
        var requests = new Option<int>("--requests") { Description = "Requests per concurrency level.", DefaultValueFactory = _ => 32 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Length of the synthetic prompts in words (about one token each).", DefaultValueFactory = _ => 128 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Output tokens per request (fixed with ignore_eos).", DefaultValueFactory = _ => 128 };
        var stream = new Option<bool>("--stream") { Description = "Stream the responses (default true; --stream false measures whole responses, no TTFT/ITL).", DefaultValueFactory = _ => true };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Ask for fixed output lengths: ignore_eos and min_tokens (default true).", DefaultValueFactory = _ => true };
        var seed = new Option<long?>("--seed") { Description = "Seeds the synthetic prompts and is sent as the sampling seed." };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file." };
        var promptFile = new Option<string?>("--prompt-file") { Description = "Send this file's text as the prompt of every request instead of synthetic prompts." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds one request may take before it counts as failed.", DefaultValueFactory = _ => 600 };
        var delay = new Option<double>("--delay") { Description = "Seconds to wait after start-up before the first request, e.g. to send a long prompt into a load another bench drives (start-up work then does not disturb the load).", DefaultValueFactory = _ => 0 };
        var warmup = new Option<int>("--warmup") { Description = "Unmeasured short requests (16 tokens at most) sent before the first level at its concurrency: each client's connection and the client's and the server's first-request costs stay out of the figures.", DefaultValueFactory = _ => 0 };
        var command = new Command("bench", "Benchmark a running server: N concurrent streaming clients, throughput, TTFT and inter-token latency percentiles.")
        {
            url, grpc, apiKey, model, concurrency, requests, promptTokens, maxTokens, stream, ignoreEos, seed, json, promptFile, timeout, delay, warmup,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var errors = new List<string>();
            var levels = ParseLevels(result.GetValue(concurrency)!, errors);
            var settings = new BenchSettings
            {
                Url = ParseUrl(result.GetValue(url), "--url", errors),
                GrpcUrl = ParseUrl(result.GetValue(grpc), "--grpc", errors),
                ApiKey = result.GetValue(apiKey),
                Model = result.GetValue(model)!,
                Concurrency = levels,
                Requests = Positive(result.GetValue(requests), "--requests", errors),
                PromptTokens = Positive(result.GetValue(promptTokens), "--prompt-tokens", errors),
                MaxTokens = Positive(result.GetValue(maxTokens), "--max-tokens", errors),
                Stream = result.GetValue(stream),
                IgnoreEos = result.GetValue(ignoreEos),
                Seed = result.GetValue(seed),
                PromptFile = result.GetValue(promptFile),
                Timeout = TimeSpan.FromSeconds(Positive(result.GetValue(timeout), "--timeout", errors)),
                Delay = Seconds(result.GetValue(delay), "--delay", errors),
                WarmUp = NotNegative(result.GetValue(warmup), "--warmup", errors),
            };
            if (settings.Url is null && settings.GrpcUrl is null)
            {
                errors.Add("--url or --grpc is required");
            }

            if (settings.Url is not null && settings.GrpcUrl is not null)
            {
                errors.Add("give --url or --grpc, not both");
            }

            if (settings.GrpcUrl is not null && !settings.Stream)
            {
                errors.Add("--stream false: gRPC Generate always streams");
            }

            if (settings.PromptFile is { } file && !File.Exists(file))
            {
                errors.Add($"--prompt-file: {file} does not exist");
            }

            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    await Console.Error.WriteLineAsync($"bench: {error}");
                }

                return 2;
            }

            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            if (Console.IsOutputRedirected)
            {
                // Piped to a file or CI log: no terminal width to fit, so do not wrap the tables at 80 columns.
                console.Profile.Width = Math.Max(console.Profile.Width, 140);
            }

            return await BenchApplication.RunAsync(settings, console, result.GetValue(json), cancellationToken);
        });
        return command;
    }

    private static int[] ParseLevels(string text, List<string> errors)
    {
        var levels = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var level) && level > 0)
            {
                levels.Add(level);
            }
            else
            {
                errors.Add($"--concurrency: '{part}' is not a positive integer");
            }
        }

        if (levels.Count == 0 && errors.Count == 0)
        {
            errors.Add("--concurrency: give at least one level, e.g. 1,4,16");
        }

        return [.. levels];
    }

    private static Uri? ParseUrl(string? text, string option, List<string> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        errors.Add($"{option}: '{text}' is not an http:// or https:// URL");
        return null;
    }

    private static int Positive(int value, string option, List<string> errors)
    {
        if (value <= 0)
        {
            errors.Add($"{option} must be at least 1");
        }

        return value;
    }

    private static int NotNegative(int value, string option, List<string> errors)
    {
        if (value < 0)
        {
            errors.Add($"{option} must be 0 or more");
        }

        return value;
    }

    private static TimeSpan Seconds(double value, string option, List<string> errors)
    {
        if (value is not (>= 0 and <= 86_400))
        {
            errors.Add($"{option} must be 0..86400 seconds");
            return TimeSpan.Zero;
        }

        return TimeSpan.FromSeconds(value);
    }
}
