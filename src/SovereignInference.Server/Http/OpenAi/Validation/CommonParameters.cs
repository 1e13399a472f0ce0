using System.Globalization;
using System.Text.Json;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>The request fields chat and legacy completions share, read and type-checked once.</summary>
internal sealed record CommonParameters
{
    public const int MaxChoices = 16;

    public required string Model { get; init; }

    public bool Stream { get; init; }

    public bool IncludeUsage { get; init; }

    public int? MaxTokens { get; init; }

    public int N { get; init; } = 1;

    public IReadOnlyList<string> Stop { get; init; } = [];

    public long? Seed { get; init; }

    public bool IgnoreEos { get; init; }

    public string? User { get; init; }

    /// <summary>Ollama's keep_alive ("10m", seconds, 0 = unload when idle, negative = keep loaded); null: the model's.</summary>
    public string? KeepAlive { get; init; }

    public required SamplingParams Sampling { get; init; }

    /// <param name="chat">Chat reads logprobs as a bool with top_logprobs; legacy completions read logprobs as a count.</param>
    public static CommonParameters Parse(JsonElement root, bool chat)
    {
        var model = String(root, "model") ?? throw Invalid("model", "is required");
        var maxTokens = Integer(root, "max_completion_tokens", 1, int.MaxValue) ?? Integer(root, "max_tokens", 1, int.MaxValue);
        bool logprobs;
        long topLogprobs;
        if (chat)
        {
            logprobs = Bool(root, "logprobs") ?? false;
            topLogprobs = Integer(root, "top_logprobs", 0, SamplingParams.MaxTopLogprobs) ?? 0;
            if (topLogprobs > 0 && !logprobs)
            {
                throw Invalid("top_logprobs", "needs 'logprobs' set to true");
            }
        }
        else
        {
            var count = Integer(root, "logprobs", 0, SamplingParams.MaxTopLogprobs);
            logprobs = count is not null;
            topLogprobs = count ?? 0;
        }

        var includeUsage = false;
        if (TryGet(root, "stream_options", out var streamOptions))
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("stream_options", "must be an object");
            }

            includeUsage = Bool(streamOptions, "include_usage") ?? false;
        }

        return new CommonParameters
        {
            Model = model,
            Stream = Bool(root, "stream") ?? false,
            IncludeUsage = includeUsage,
            MaxTokens = (int?)maxTokens,
            N = (int)(Integer(root, "n", 1, MaxChoices) ?? 1),
            Stop = ParseStop(root),
            Seed = Integer(root, "seed", long.MinValue, long.MaxValue),
            IgnoreEos = Bool(root, "ignore_eos") ?? false,
            User = String(root, "user"),
            KeepAlive = ParseKeepAlive(root),
            Sampling = new SamplingParams
            {
                Temperature = (float)(Number(root, "temperature", 0, SamplingParams.MaxTemperature) ?? 1),
                TopP = (float)(Number(root, "top_p", 0, 1) ?? 1),
                TopK = (int)(Integer(root, "top_k", 0, int.MaxValue) ?? 0),
                MinP = (float)(Number(root, "min_p", 0, 1) ?? 0),
                RepeatPenalty = (float)(Number(root, "repeat_penalty", 0, 100) ?? 1),
                FrequencyPenalty = (float)(Number(root, "frequency_penalty", -2, 2) ?? 0),
                PresencePenalty = (float)(Number(root, "presence_penalty", -2, 2) ?? 0),
                LogitBias = ParseLogitBias(root),
                Logprobs = logprobs,
                TopLogprobs = (int)topLogprobs,
            },
        };
    }

    /// <summary>The engine request of choice <paramref name="choice"/>: seeds differ per choice, deterministically when a seed is given.</summary>
    public GenerationRequest ToRequest(int choice, IReadOnlyList<int>? promptTokens, string? prompt) => new()
    {
        Model = Model,
        PromptTokens = promptTokens,
        Prompt = prompt,
        MaxTokens = MaxTokens,
        Stop = Stop,
        IgnoreEos = IgnoreEos,
        User = User,
        KeepAlive = KeepAlive,
        Sampling = Sampling with { Seed = Seed is { } seed ? unchecked((ulong)seed + (ulong)choice) : null },
    };

    private static string? ParseKeepAlive(JsonElement root)
    {
        if (!TryGet(root, "keep_alive", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Number => value.GetRawText(),
            _ => throw Invalid("keep_alive", "must be a duration string such as \"10m\" or a number of seconds"),
        };
        return Engine.Models.KeepAlive.TryParse(text, out _)
            ? text
            : throw Invalid("keep_alive", $"must be a duration such as \"10m\", \"90s\" or \"1h30m\", or seconds (0 = unload when idle, negative = keep loaded); got '{text}'");
    }

    private static List<string> ParseStop(JsonElement root)
    {
        if (!TryGet(root, "stop", out var stop))
        {
            return [];
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            return [stop.GetString()!];
        }

        if (stop.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("stop", "must be a string or an array of strings");
        }

        var list = new List<string>();
        foreach (var item in stop.EnumerateArray())
        {
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Invalid("stop", "must be a string or an array of strings"));
        }

        return list;
    }

    private static Dictionary<int, float>? ParseLogitBias(JsonElement root)
    {
        if (!TryGet(root, "logit_bias", out var bias))
        {
            return null;
        }

        if (bias.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("logit_bias", "must be an object mapping token ids (as strings) to numbers");
        }

        var result = new Dictionary<int, float>();
        foreach (var property in bias.EnumerateObject())
        {
            if (!int.TryParse(property.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                throw Invalid("logit_bias", $"has key '{property.Name}', which is not a token id");
            }

            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetDouble(out var value) || !double.IsFinite(value))
            {
                throw Invalid("logit_bias", $"value for token {id} must be a finite number");
            }

            result[id] = (float)value;
        }

        return result;
    }
}
