using System.Text;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Gguf;
using SovereignInference.Tests.Server.Http.OpenAi;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Engine.Chat;

/// <summary>
/// GGUFs with generated Tekken vocabularies (mistral-common's tekken.json format with the real special tokens at their
/// ranks, 1000 special tokens, bytes and learned merges; written as llama.cpp's converter writes Tekken) and the
/// v7-tekken, v11 and v13 templates, through real llama.cpp and the server: control tokens are single tokens with their
/// ranks as ids, prompts tokenize to the ids mistral-common's encoding gives (<see cref="TekkenReference"/>), and
/// replies decode as it decodes them.
/// </summary>
public sealed class TekkenVocabularyTests : IAsyncLifetime
{
    private const string Reply = "Hello world! Ça va? 語🙂.";

    private static readonly Dictionary<string, (string Template, MistralTemplateVersion Version)> Versions = new()
    {
        ["v7"] = ("mistral-v7-tekken", MistralTemplateVersion.V7Tekken),
        ["v11"] = ("mistral-v11", MistralTemplateVersion.V11),
        ["v13"] = ("mistral-v13", MistralTemplateVersion.V13),
    };

    private readonly Dictionary<string, TekkenReference> _references = [];
    private ServerHarness _server = null!;

    public static string VocabularyFile(string version)
    {
        var folder = Path.Combine(Path.GetTempPath(), "sovereign-tekken-vocabularies");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"tekken-{version}.json");
        var json = TekkenVocabulary.Generate(version).ToJson();
        if (!File.Exists(path) || File.ReadAllText(path) != json)
        {
            var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temp, json, new UTF8Encoding(false));
            File.Move(temp, path, overwrite: true);
        }

        return path;
    }

    public async Task InitializeAsync()
    {
        var models = new List<(string Id, string Path)>();
        foreach (var (version, (template, _)) in Versions)
        {
            var file = VocabularyFile(version);
            _references[version] = new TekkenReference(file);
            var model = TestModels.Random(RandomModelSpec.Tiny with
            {
                Name = $"sovereign-tekken-{version}",
                TokenizerFile = file,
                ChatTemplate = ChatTemplateTexts.Resolve(template)!.Value.Template,
            });
            models.Add((version, model.Path));
        }

        models.Add(("scripted", TestModels.Scripted(ScriptedSpec(_references["v11"])).Path));
        var settings = ServerHarness.ModelSettings([.. models]);
        settings["Parallel"] = "1";
        _server = await ServerHarness.StartAsync(settings);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>A v11 Tekken model that answers <see cref="Reply"/> after [/INST], token by token as the reference encodes it.</summary>
    private static ScriptedModelSpec ScriptedSpec(TekkenReference reference)
    {
        var pieces = reference.Encode(Reply).Select(id => ByteLevel.Encode(reference.Bytes(id))).ToArray();
        return new ScriptedModelSpec
        {
            Name = "sovereign-tekken-scripted",
            TokenizerFile = VocabularyFile("v11"),
            ChatTemplate = ChatTemplateTexts.Resolve("mistral-v11")!.Value.Template,
            Transitions = ScriptedModelSpec.Chain(["[/INST]", .. pieces, "</s>"]),
        };
    }

    public static TheoryData<string, string> ControlTokens()
    {
        string[] v7 = ["<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]"];
        string[] v11 = [.. v7, "[ARGS]", "[CALL_ID]"];
        string[] v13 = [.. v11, "[THINK]", "[/THINK]"];
        var data = new TheoryData<string, string>();
        foreach (var (version, tokens) in new[] { ("v7", v7), ("v11", v11), ("v13", v13) })
        {
            foreach (var token in tokens)
            {
                data.Add(version, token);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ControlTokens))]
    public void Every_control_token_is_one_token_with_its_rank_as_id(string version, string control)
    {
        var tokenizer = _server.Engine.GetReadyModel(version).Tokenizer!;

        var ids = tokenizer.Tokenize(control, addBos: false, parseSpecial: true);

        Assert.Equal([_references[version].Specials[control]], ids);
        Assert.True(tokenizer.GetPieceBytes(ids[0]).IsEmpty, $"{control} should be a control token");
    }

    [Fact]
    public void The_real_ranks_are_those_of_mistral_common()
    {
        var r = _references["v13"];
        Assert.Equal(1000, r.NumSpecialTokens);
        Assert.Equal((3, 4, 9, 17, 18, 19), (r.Specials["[INST]"], r.Specials["[/INST]"], r.Specials["[TOOL_CALLS]"], r.Specials["[SYSTEM_PROMPT]"], r.Specials["[/SYSTEM_PROMPT]"], r.Specials["[TOOL_CONTENT]"]));
        Assert.Equal((32, 33, 35, 36), (r.Specials["[ARGS]"], r.Specials["[CALL_ID]"], r.Specials["[THINK]"], r.Specials["[/THINK]"]));
        Assert.Equal(999, r.Specials["<SPECIAL_999>"]);
        Assert.DoesNotContain("[ARGS]", _references["v7"].Specials.Keys);
    }

    [Fact]
    public void The_gguf_has_the_converters_tekken_metadata_and_passes_the_validator()
    {
        var path = TestModels.Random(RandomModelSpec.Tiny with { Name = "sovereign-tekken-v13", TokenizerFile = VocabularyFile("v13"), ChatTemplate = ChatTemplateTexts.Resolve("mistral-v13")!.Value.Template }).Path;

        var file = GgufReader.ReadModel(path); // runs GgufModelValidator

        Assert.Equal("gpt2", file.GetString("tokenizer.ggml.model"));
        Assert.Equal("tekken", file.GetString("tokenizer.ggml.pre"));
        var tokens = file.Get("tokenizer.ggml.tokens")!.AsArray<string>();
        var types = file.Get("tokenizer.ggml.token_type")!.AsArray<int>();
        Assert.Equal(1000 + 32, tokens.ToList().IndexOf("Ġ")); // inner rank 32, the space byte, offset by the 1000 special tokens
        Assert.Equal("[INST]", tokens[3]);
        Assert.All(types.Take(1000), t => Assert.Equal((int)TokenType.Control, t));
        Assert.All(types.Skip(1000), t => Assert.Equal((int)TokenType.Normal, t));
        Assert.NotEmpty(file.Get("tokenizer.ggml.merges")!.AsArray<string>());
        Assert.Equal(11, file.GetInt64("tokenizer.ggml.padding_token_id"));
    }

    [Theory]
    [InlineData("v7")]
    [InlineData("v11")]
    [InlineData("v13")]
    public void The_detected_format_follows_the_template_and_the_vocabulary(string version) =>
        Assert.Equal(Versions[version].Version, ChatFormatter.VersionOf(_server.Engine.GetReadyModel(version)));

    public static TheoryData<string> Texts() =>
    [
        "Hello world! How are you today?",
        "The weather in Paris is sunny.\n\nWhat about London?",
        "{\"city\": \"Paris\", \"days\": 3, \"units\": \"metric\"}",
        "Ça va? Très bien, crème brûlée à Zürich. 日本語のテキスト 🙂 ok",
        "  leading spaces, tabs\tand 12345 digits\r\n",
        "CamelCase HTTPServer isOK don't",
    ];

    [Theory]
    [MemberData(nameof(Texts))]
    public void Text_tokenizes_as_the_reference_encodes_it(string text)
    {
        foreach (var version in Versions.Keys)
        {
            var tokenizer = _server.Engine.GetReadyModel(version).Tokenizer!;
            var expected = _references[version].Encode(text);
            Assert.Equal(expected, tokenizer.Tokenize(text, addBos: false, parseSpecial: false));
            Assert.True(expected.Length < Encoding.UTF8.GetByteCount(text), "the learned merges should shorten the text");
        }
    }

    private static ChatMessage[] Conversation(string version)
    {
        ChatMessage[] start =
        [
            new(ChatRole.System, "You are a helpful assistant."),
            new(ChatRole.User, "Hello, how are you today?"),
            new(ChatRole.Assistant, "I am fine. Ça va? 日本語 🙂!"),
            new(ChatRole.User, "What is the weather in Paris?"),
        ];
        if (version == "v13")
        {
            start[2] = start[2] with { Reasoning = "Let me think about this." };
        }

        return
        [
            .. start,
            new(ChatRole.Assistant, null) { ToolCalls = [new ChatToolCall("abcdefghi", "get_weather", "{\"city\": \"Paris\"}")] },
            new(ChatRole.Tool, "{\"content\": \"sunny\"}") { ToolCallId = "abcdefghi", Name = "get_weather" },
            new(ChatRole.User, "Thanks!"),
        ];
    }

    private static readonly ToolDefinition[] Tools = [new("get_weather", "Get the weather", "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}")];

    private int[] Expected(string version, ChatPrompt prompt)
    {
        var reference = _references[version];
        return [.. prompt.Segments.SelectMany(s => s.IsControl ? [reference.Specials[s.Text]] : reference.Encode(s.Text))];
    }

    [Theory]
    [InlineData("v7")]
    [InlineData("v11")]
    [InlineData("v13")]
    public void Rendered_prompts_have_the_token_ids_of_the_reference_encoding(string version)
    {
        var model = _server.Engine.GetReadyModel(version);
        var prompt = MistralChatFormatter.Format(Conversation(version), Tools, Versions[version].Version);

        var expected = Expected(version, prompt);

        Assert.Equal(expected, prompt.ToTokens(model.Tokenizer!));
        Assert.Equal(expected, ChatTurn.Prepare(model, Conversation(version), Tools).PromptTokens);
        Assert.Equal(_references[version].Specials["<s>"], expected[0]);
        Assert.Contains(_references[version].Specials["[TOOL_CALLS]"], expected);
        if (version != "v7")
        {
            Assert.Contains(_references[version].Specials["[ARGS]"], expected);
        }

        if (version == "v13")
        {
            Assert.Contains(_references[version].Specials["[THINK]"], expected);
        }
    }

    [Theory]
    [InlineData("v7", "mistral-v7-tekken")]
    [InlineData("v11", "mistral-v11")]
    [InlineData("v13", "mistral-v13")]
    public async Task Apply_template_then_tokenize_gives_the_reference_ids(string version, string format)
    {
        var messages = """[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello, how are you today? Ça va? 日本語 🙂!"}]""";
        var (response, body) = await OpenAiTestSupport.PostJsonAsync(_server, "apply-template", $$"""{"model":"{{version}}","messages":{{messages}}}""");
        Assert.True(response.IsSuccessStatusCode, body.RootElement.ToString());
        Assert.Equal(format, body.RootElement.GetProperty("format").GetString());
        var promptText = body.RootElement.GetProperty("prompt").GetString()!;

        var (tokenized, tokens) = await OpenAiTestSupport.PostJsonAsync(_server, "tokenize", System.Text.Json.JsonSerializer.Serialize(new { model = version, content = promptText, add_special = false, parse_special = true }));

        Assert.True(tokenized.IsSuccessStatusCode, tokens.RootElement.ToString());
        var prompt = MistralChatFormatter.Format([new(ChatRole.System, "You are a helpful assistant."), new(ChatRole.User, "Hello, how are you today? Ça va? 日本語 🙂!")], null, Versions[version].Version);
        Assert.Equal(prompt.Text, promptText);
        Assert.Equal(Expected(version, prompt), tokens.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
    }

    [Fact]
    public void Streamed_pieces_decode_as_the_reference_decodes_them()
    {
        var model = _server.Engine.GetReadyModel("v11");
        var tokenizer = model.Tokenizer!;
        var reference = _references["v11"];
        const string text = " Hello world! Ça va? 🙂 日本語.";
        var ids = reference.Encode(text);
        Assert.Contains(ids, id => !IsValidUtf8(reference.Bytes(id)));

        var decoder = new Utf8StreamDecoder();
        var assembler = ChatTurn.Prepare(model, [new(ChatRole.User, "a")], null).NewAssembler();
        var streamed = new StringBuilder();
        var content = new StringBuilder();
        foreach (var id in ids)
        {
            Assert.Equal(reference.Bytes(id), tokenizer.GetPieceBytes(id).ToArray());
            var piece = decoder.Append(tokenizer.GetPieceBytes(id));
            streamed.Append(piece);
            content.Append(assembler.Apply(new GenerationUpdate { Text = piece }).Content);
        }

        streamed.Append(decoder.Flush());
        Assert.Equal(reference.Decode(ids), streamed.ToString());
        Assert.Equal(text, streamed.ToString());
        Assert.Equal(text, content.ToString()); // Tekken has no dummy-prefix space to remove: the leading space stays.
    }

    [Fact]
    public async Task Chat_through_the_server_gives_the_scripted_reply()
    {
        var (response, body) = await OpenAiTestSupport.PostJsonAsync(_server, "v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hello"}],"max_tokens":32}""");

        Assert.True(response.IsSuccessStatusCode, body.RootElement.ToString());
        var choice = body.RootElement.GetProperty("choices")[0];
        Assert.Equal(Reply, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Streamed_chat_through_the_server_gives_the_scripted_reply()
    {
        using var content = new StringContent("""{"model":"scripted","messages":[{"role":"user","content":"Hello"}],"max_tokens":32,"stream":true}""", Encoding.UTF8, "application/json");
        var response = await _server.Http.PostAsync("v1/chat/completions", content);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.IsSuccessStatusCode, body);
        var text = string.Concat(OpenAiTestSupport.ParseSse(body)
            .Select(e => e.RootElement.GetProperty("choices"))
            .Where(c => c.GetArrayLength() > 0)
            .Select(c => c[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var t) && t.ValueKind == System.Text.Json.JsonValueKind.String ? t.GetString() : ""));
        Assert.Equal(Reply, text);
    }

    private static bool IsValidUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
