using System.Text.Json;
using Grpc.Core;
using OpenAI.Chat;
using SovereignInference.Contracts.V1;
using SovereignInference.Gguf;
using SovereignInference.Tests.Engine.Grammar;
using SovereignInference.Tests.Server.Grpc;
using SovereignInference.Tests.TestSupport;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using ProtoRole = SovereignInference.Contracts.V1.ChatRole;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>
/// response_format on the random "tiny" model with seeded sampling at temperature 1: its output is close to noise,
/// so whatever parses and validates does so because response_format reached the engine's grammar.
/// </summary>
public sealed class ResponseFormatTests
{
    private const string PersonSchema = SchemaValidator.PersonSchema;

    private static Task<ServerHarness> StartTinyAsync()
    {
        return ServerHarness.StartAsync(ServerHarness.ModelSettings(("tiny", TestModels.Tiny().Path)));
    }

    [Fact]
    public async Task Json_schema_through_the_openai_sdk_gives_output_that_matches_the_schema()
    {
        await using var server = await StartTinyAsync();
        var chat = OpenAiTestSupport.Client(server).GetChatClient("tiny");
        using var schema = JsonDocument.Parse(PersonSchema);

        foreach (var seed in new long[] { 1, 2, 3 })
        {
            var options = new ChatCompletionOptions
            {
                Temperature = 1,
                MaxOutputTokenCount = 400,
                ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema)),
            };
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
            options.Seed = seed;
#pragma warning restore OPENAI001

            var completion = (await chat.CompleteChatAsync([new UserChatMessage("Describe a person as JSON.")], options)).Value;

            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            var text = completion.Content[0].Text;
            using var document = JsonDocument.Parse(text);
            var errors = SchemaValidator.Validate(schema.RootElement, document.RootElement);
            Assert.True(errors.Count == 0, $"seed {seed}: output {text} breaks the schema: {string.Join("; ", errors)}");
        }
    }

    [Fact]
    public async Task Json_object_through_the_openai_sdk_gives_a_json_object()
    {
        await using var server = await StartTinyAsync();
        var chat = OpenAiTestSupport.Client(server).GetChatClient("tiny");
        var vocab = TestModels.Tiny().Vocabulary;

        foreach (var seed in new long[] { 11, 12 })
        {
            var options = new ChatCompletionOptions { Temperature = 1, MaxOutputTokenCount = 480, ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat() };
            // Closing tokens are favoured so a random model ends its object in reasonable time; the grammar alone
            // decides what is allowed.
            foreach (var piece in new[] { "}", "]", "\"", "<0x7D>", "<0x5D>", "<0x22>" })
            {
                options.LogitBiases[vocab.IdOf(piece)] = 6;
            }
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
            options.Seed = seed;
#pragma warning restore OPENAI001

            var completion = (await chat.CompleteChatAsync([new UserChatMessage("Answer in JSON.")], options)).Value;

            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            using var document = JsonDocument.Parse(completion.Content[0].Text);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }
    }

    [Fact]
    public async Task Text_format_leaves_the_output_free_and_json_schema_changes_it()
    {
        await using var server = await StartTinyAsync();
        var chat = OpenAiTestSupport.Client(server).GetChatClient("tiny");
        var free = (await chat.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 16, ResponseFormat = ChatResponseFormat.CreateTextFormat() })).Value;
        var plain = (await chat.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 16 })).Value;

        Assert.Equal(plain.Content[0].Text, free.Content[0].Text);
        var constrained = (await chat.CompleteChatAsync(
            [new UserChatMessage("Hello")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 60, ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("yn", BinaryData.FromString("""{"enum":["yes","no"]}""")) })).Value;
        Assert.Contains(constrained.Content[0].Text, new[] { "\"yes\"", "\"no\"" });
    }

    [Fact]
    public async Task Grpc_chat_json_schema_gives_the_same_text_as_http_for_the_same_seed()
    {
        await using var server = await StartTinyAsync();
        using var channel = GrpcTestClient.Channel(server);
        var options = new ChatCompletionOptions
        {
            Temperature = 1,
            MaxOutputTokenCount = 400,
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema)),
        };
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
        options.Seed = 5;
#pragma warning restore OPENAI001
        var viaHttp = (await OpenAiTestSupport.Client(server).GetChatClient("tiny").CompleteChatAsync([new UserChatMessage("Describe a person as JSON.")], options)).Value;

        var request = new ChatRequest
        {
            Model = "tiny",
            Messages = { new Contracts.V1.ChatMessage { Role = ProtoRole.User, Content = "Describe a person as JSON." } },
            Sampling = new SamplingParams { Temperature = 1, Seed = 5, MaxTokens = 400 },
            JsonSchema = PersonSchema,
        };
        var viaGrpc = await GrpcTestClient.ReadAllAsync(new Inference.InferenceClient(channel).Chat(request));

        Assert.Equal(viaHttp.Content[0].Text, viaGrpc.Text);
        using var document = JsonDocument.Parse(viaGrpc.Text);
        Assert.Empty(SchemaValidator.Validate(JsonDocument.Parse(PersonSchema).RootElement, document.RootElement));

        var generate = new GenerateRequest
        {
            Model = "tiny",
            Text = "Hello",
            Sampling = new SamplingParams { Temperature = 1, Seed = 9, MaxTokens = 400 },
            JsonSchema = PersonSchema,
        };
        var generated = await GrpcTestClient.ReadAllAsync(new Inference.InferenceClient(channel).Generate(generate));
        using var generatedDocument = JsonDocument.Parse(generated.Text);
        Assert.Empty(SchemaValidator.Validate(JsonDocument.Parse(PersonSchema).RootElement, generatedDocument.RootElement));
    }
}
