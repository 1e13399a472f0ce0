using System.Text.Json;
using static SovereignInference.Server.Http.OpenAi.Validation.JsonFields;

namespace SovereignInference.Server.Http.OpenAi.Validation;

/// <summary>One prompt of a legacy completion: text, or token ids.</summary>
internal sealed record CompletionPrompt(string? Text, IReadOnlyList<int>? Tokens);

/// <summary>A validated POST /v1/completions body. Several prompts give n choices each.</summary>
internal sealed record CompletionRequest(CommonParameters Common, IReadOnlyList<CompletionPrompt> Prompts)
{
    public const int MaxPrompts = 16;

    public static CompletionRequest Parse(JsonElement root)
    {
        if (Bool(root, "echo") == true)
        {
            throw JsonFields.Unsupported("echo", "the prompt is not echoed back");
        }

        if (Integer(root, "best_of", 1, CommonParameters.MaxChoices) is > 1)
        {
            throw JsonFields.Unsupported("best_of", "server-side best-of sampling is not implemented; use n");
        }

        if (String(root, "suffix") is { Length: > 0 })
        {
            throw JsonFields.Unsupported("suffix", "fill-in-the-middle is not implemented");
        }

        var common = CommonParameters.Parse(root, chat: false);
        var prompts = ParsePrompts(root);
        if (prompts.Count * common.N > CommonParameters.MaxChoices)
        {
            throw Invalid("n", $"times the number of prompts must be at most {CommonParameters.MaxChoices}");
        }

        return new CompletionRequest(common, prompts);
    }

    private static List<CompletionPrompt> ParsePrompts(JsonElement root)
    {
        if (!TryGet(root, "prompt", out var prompt))
        {
            throw Invalid("prompt", "is required");
        }

        const string Shape = "must be a string, an array of strings, an array of token ids or an array of token-id arrays";
        if (prompt.ValueKind == JsonValueKind.String)
        {
            return [new CompletionPrompt(prompt.GetString(), null)];
        }

        if (prompt.ValueKind != JsonValueKind.Array || prompt.GetArrayLength() == 0)
        {
            throw Invalid("prompt", Shape);
        }

        var first = prompt[0];
        if (first.ValueKind == JsonValueKind.Number)
        {
            return [new CompletionPrompt(null, TokenIds(prompt, "prompt"))];
        }

        var list = new List<CompletionPrompt>();
        var i = 0;
        foreach (var item in prompt.EnumerateArray())
        {
            var path = $"prompt[{i++}]";
            list.Add(item.ValueKind switch
            {
                JsonValueKind.String => new CompletionPrompt(item.GetString(), null),
                JsonValueKind.Array => new CompletionPrompt(null, TokenIds(item, path)),
                _ => throw Invalid(path, Shape),
            });
        }

        if (list.Count > MaxPrompts)
        {
            throw Invalid("prompt", $"may hold at most {MaxPrompts} prompts");
        }

        return list;
    }
}
