using System.Text;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Requests;
using SovereignInference.Server.Http.OpenAi.Contracts;

namespace SovereignInference.Server.Http.OpenAi.Generation;

/// <summary>Follows one legacy completion choice: text and, when asked, logprobs in the completions format.</summary>
internal sealed class CompletionChoiceState(int index, ITokenizer tokenizer, bool logprobs)
{
    private readonly StringBuilder _text = new();
    private readonly List<string> _tokens = [];
    private readonly List<float> _tokenLogprobs = [];
    private readonly List<Dictionary<string, float>> _top = [];
    private readonly List<int> _offsets = [];
    private int _offset;

    public int Index { get; } = index;

    public FinishReason? Finish { get; private set; }

    public UsageInfo? Usage { get; private set; }

    public string FinishReasonText => Finish == FinishReason.Length ? "length" : "stop";

    /// <summary>Adds an update; returns its logprobs (completions format) when asked for.</summary>
    public CompletionLogprobs? Apply(GenerationUpdate update)
    {
        _text.Append(update.Text);
        if (update.Finish is { } finish)
        {
            Finish = finish;
            Usage = update.Usage;
        }

        if (!logprobs || update.Tokens.Count == 0)
        {
            return null;
        }

        var tokens = new List<string>();
        var values = new List<float>();
        var top = new List<Dictionary<string, float>>();
        var offsets = new List<int>();
        foreach (var t in update.Tokens)
        {
            var text = TokenText.Of(tokenizer, t.Token);
            tokens.Add(text);
            values.Add(t.Logprob);
            offsets.Add(_offset);
            _offset += text.Length;
            var alternatives = new Dictionary<string, float>();
            foreach (var a in t.TopLogprobs ?? [])
            {
                alternatives.TryAdd(TokenText.Of(tokenizer, a.Token), a.Logprob);
            }

            top.Add(alternatives);
        }

        _tokens.AddRange(tokens);
        _tokenLogprobs.AddRange(values);
        _top.AddRange(top);
        _offsets.AddRange(offsets);
        return new CompletionLogprobs(tokens, values, top, offsets);
    }

    public CompletionChoice ToChoice() => new(
        Index,
        _text.ToString(),
        logprobs ? new CompletionLogprobs(_tokens, _tokenLogprobs, _top, _offsets) : null,
        FinishReasonText);
}
