using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Contracts;

namespace SovereignInference.Server.Http.OpenAi.Generation;

/// <summary>Usage of a call with several choices: each prompt counted once, completions summed.</summary>
internal static class UsageTotals
{
    public static UsageDto Sum(IEnumerable<(int Index, UsageInfo? Usage)> choices, int n)
    {
        int prompt = 0, completion = 0, cached = 0;
        foreach (var (index, usage) in choices)
        {
            if (usage is null)
            {
                continue;
            }

            if (index % n == 0)
            {
                prompt += usage.PromptTokens;
                cached += usage.CachedPromptTokens;
            }

            completion += usage.CompletionTokens;
        }

        return new UsageDto(prompt, completion, new PromptTokensDetails(cached));
    }

    public static string NewId(string prefix) => prefix + Guid.NewGuid().ToString("N")[..24];

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
