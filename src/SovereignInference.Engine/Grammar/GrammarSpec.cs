namespace SovereignInference.Engine.Grammar;

/// <summary>
/// A GBNF grammar (llama.cpp's grammar format) that generated text must match, and the name of its start
/// rule. Build one with <see cref="JsonSchemaGrammar"/> for OpenAI's <c>response_format</c>; a grammar is checked
/// by <see cref="GbnfValidator"/> before any native code sees it.
/// </summary>
/// <param name="Gbnf">The grammar text.</param>
/// <param name="Root">The start rule (default <c>root</c>).</param>
public sealed record GrammarSpec(string Gbnf, string Root = "root")
{
    /// <summary>
    /// A lazy grammar: the output is free until this token is generated, and matches the grammar from the next
    /// token on (tool_choice "auto": the calls after [TOOL_CALLS]). Null: the grammar applies from the start.
    /// </summary>
    public int? TriggerToken { get; init; }
}
