using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Chat;

/// <summary>
/// GGUFs with Mistral's real SentencePiece vocabularies (mistral-common's tokenizer.model.v3 and .v7, vendored in
/// Chat/Reference with their licence) and small random weights, through real llama.cpp: control tokens are single
/// tokens, rendered prompts tokenize to the ids mistral-common's tests expect, and replies decode as it decodes.
/// </summary>
public sealed class RealVocabularyTests : IAsyncLifetime
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Engine", "Chat", "Reference");
    private EngineHarness _harness = null!;

    private static RandomModelSpec Spec(string file, string name) => RandomModelSpec.Tiny with
    {
        Name = name,
        TokenizerFile = Path.Combine(Folder, file),
        ChatTemplate = File.ReadAllText(Path.Combine(Folder, "templates", file.EndsWith("v7", StringComparison.Ordinal) ? "mistral-common-v7_spm.jinja" : "mistral-common-v3_spm.jinja")),
    };

    public async Task InitializeAsync()
    {
        var v3 = TestModels.Random(Spec("mistral_instruct_tokenizer_240323.model.v3", "sovereign-real-v3"));
        var v7 = TestModels.Random(Spec("mistral_instruct_tokenizer_241114.model.v7", "sovereign-real-v7"));
        _harness = await EngineHarness.StartAsync(new EngineOptions
        {
            ModelsDir = Path.Combine(Path.GetTempPath(), "sovereign-empty-models-dir"),
            Model = [v3.Path, v7.Path],
            Aliases = new() { [Path.GetFileName(v3.Path)] = "v3", [Path.GetFileName(v7.Path)] = "v7" },
            Parallel = 1,
            CtxSize = 256,
        });
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Theory]
    [InlineData("v3", "[INST]", 3)]
    [InlineData("v3", "[/INST]", 4)]
    [InlineData("v3", "[TOOL_CALLS]", 5)]
    [InlineData("v3", "[AVAILABLE_TOOLS]", 6)]
    [InlineData("v3", "[/AVAILABLE_TOOLS]", 7)]
    [InlineData("v3", "[TOOL_RESULTS]", 8)]
    [InlineData("v3", "[/TOOL_RESULTS]", 9)]
    [InlineData("v7", "[SYSTEM_PROMPT]", -1)]
    [InlineData("v7", "[/SYSTEM_PROMPT]", -1)]
    [InlineData("v7", "[TOOL_CONTENT]", -1)]
    public void Every_control_token_is_one_token(string model, string control, int expectedId)
    {
        var tokenizer = _harness.Engine.GetReadyModel(model).Tokenizer!;

        var ids = tokenizer.Tokenize(control, addBos: false, parseSpecial: true);

        Assert.Single(ids);
        Assert.True(tokenizer.GetPieceBytes(ids[0]).IsEmpty, $"{control} should be a control token");
        if (expectedId >= 0)
        {
            Assert.Equal(expectedId, ids[0]);
        }
    }

    [Fact]
    public void The_detected_format_follows_the_template_and_the_vocabulary()
    {
        Assert.Equal(MistralTemplateVersion.V3, ChatFormatter.VersionOf(_harness.Engine.GetReadyModel("v3")));
        Assert.Equal(MistralTemplateVersion.V7, ChatFormatter.VersionOf(_harness.Engine.GetReadyModel("v7")));
    }

    [Fact]
    public void Rendered_prompts_have_the_token_ids_of_the_reference_tests()
    {
        var tokenizer = _harness.Engine.GetReadyModel("v3").Tokenizer!;
        ChatMessage[] abcd = [new(ChatRole.User, "a"), new(ChatRole.Assistant, "b"), new(ChatRole.User, "c"), new(ChatRole.Assistant, "d")];
        ToolDefinition[] tools = [new("tool1", "1", "{}"), new("tool2", "2", "{}")];

        // test_tokenize_v3.py::test_tools_multiturn (SentencePiece): the tokens around the tools section.
        var ids = MistralChatFormatter.Format(abcd, tools, MistralTemplateVersion.V3, continueFinal: false).ToTokens(tokenizer);
        var begin = Array.IndexOf(ids, 6);
        var end = Array.IndexOf(ids, 7);
        Assert.Equal([1, 3, 1032, 4, 1055, 2, 3, 1045, 4, 1049, 2], [.. ids[..begin], .. ids[(end + 1)..]]);

        // test_tokenize_v2.py::test_normal and test_system_singleturn: the same ids in the v3 vocabulary.
        Assert.Equal([1, 3, 1032, 4, 1055, 2, 3, 1045, 4, 1049, 2], MistralChatFormatter.Format(abcd, null, MistralTemplateVersion.V3, continueFinal: false).ToTokens(tokenizer));
        Assert.Equal([1, 3, 17889, 23294, 781, 781, 29476, 4], MistralChatFormatter.Format([new(ChatRole.System, "SYSTEM"), new(ChatRole.User, "a")], null, MistralTemplateVersion.V3).ToTokens(tokenizer));
    }

    [Fact]
    public void A_reply_decodes_as_the_reference_decodes_it()
    {
        var model = _harness.Engine.GetReadyModel("v3");
        var tokenizer = model.Tokenizer!;
        var turn = ChatTurn.Prepare(model, [new(ChatRole.User, "a")], null);
        var assembler = turn.NewAssembler();

        // The reply "▁b ▁c" (ids of test_tokenize_v2): mistral-common decodes [1055, 1045] to "b c".
        var text = string.Concat(new[] { 1055, 1045 }.Select(id => assembler.Apply(new GenerationUpdate { Text = System.Text.Encoding.UTF8.GetString(tokenizer.GetPieceBytes(id)) }).Content));

        Assert.Equal("b c", text);
    }

    [Fact]
    public async Task The_model_streams_a_reply_through_the_engine()
    {
        var model = _harness.Engine.GetReadyModel("v3");
        var turn = ChatTurn.Prepare(model, [new(ChatRole.User, "Hello")], null);

        var result = await _harness.RunAsync(turn.ToRequest(new GenerationRequest { Model = "v3", MaxTokens = 8 }));

        Assert.True(result.Finish is FinishReason.Length or FinishReason.Stop);
    }
}
