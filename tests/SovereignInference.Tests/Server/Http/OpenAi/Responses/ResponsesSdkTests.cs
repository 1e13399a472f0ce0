#pragma warning disable OPENAI001 // the Responses client is marked experimental in the SDK
using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI.Responses;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi.Responses;

/// <summary>/v1/responses through the official OpenAI .NET SDK's ResponsesClient, streamed and not, tools round trip.</summary>
public sealed class ResponsesSdkTests
{
    private static readonly ResponseTool Weather = ResponseTool.CreateFunctionTool(
        "get_weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""), strictModeEnabled: false, functionDescription: "Current weather of a city");

    private static ResponsesClient Client(ServerHarness server, string key = "not-needed") =>
        new(new ApiKeyCredential(key), new ResponsesClientOptions { Endpoint = new Uri(server.HttpBase, "v1/") });

    [Fact]
    public async Task A_text_input_gets_a_completed_response_with_output_text_and_usage()
    {
        await using var server = await ServerHarness.StartAsync();
        var result = (await Client(server).CreateResponseAsync(new CreateResponseOptions("scripted", [ResponseItem.CreateUserMessageItem("Say hello")])
        {
            Instructions = "Be brief.",
            MaxOutputTokenCount = 16,
            Temperature = 0,
        })).Value;

        Assert.StartsWith("resp_", result.Id, StringComparison.Ordinal);
        Assert.Equal(ResponseStatus.Completed, result.Status);
        Assert.Equal("Hello world!", result.GetOutputText().Trim());
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(result.OutputItems));
        Assert.Equal(MessageRole.Assistant, message.Role);
        Assert.True(result.Usage.InputTokenCount > 0);
        Assert.Equal(result.Usage.InputTokenCount + result.Usage.OutputTokenCount, result.Usage.TotalTokenCount);
        var instructions = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(result.Instructions));
        Assert.Equal("Be brief.", Assert.Single(instructions.Content).Text);
    }

    [Fact]
    public async Task Max_output_tokens_ends_the_response_incomplete()
    {
        await using var server = await ServerHarness.StartAsync();
        var result = (await Client(server).CreateResponseAsync(new CreateResponseOptions("scripted", [ResponseItem.CreateUserMessageItem("Say hello")]) { MaxOutputTokenCount = 1 })).Value;
        Assert.Equal(ResponseStatus.Incomplete, result.Status);
        Assert.Equal(1, result.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Streaming_sends_the_Responses_event_sequence_with_increasing_sequence_numbers()
    {
        await using var server = await ServerHarness.StartAsync();
        var kinds = new List<StreamingResponseUpdateKind>();
        var sequence = new List<int>();
        var text = new StringBuilder();
        ResponseResult? completed = null;
        await foreach (var update in await Client(server).CreateResponseStreamingAsync(new CreateResponseOptions("scripted", [ResponseItem.CreateUserMessageItem("Say hello")]) { Temperature = 0, StreamingEnabled = true }))
        {
            kinds.Add(update.Kind);
            sequence.Add(update.SequenceNumber);
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    text.Append(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate done:
                    completed = done.Response;
                    break;
            }
        }

        Assert.Equal(Enumerable.Range(0, sequence.Count), sequence);
        Assert.Equal(StreamingResponseUpdateKind.ResponseCreated, kinds[0]);
        Assert.Equal(StreamingResponseUpdateKind.ResponseInProgress, kinds[1]);
        Assert.Equal(StreamingResponseUpdateKind.ResponseOutputItemAdded, kinds[2]);
        Assert.Equal(StreamingResponseUpdateKind.ResponseContentPartAdded, kinds[3]);
        Assert.True(kinds.Count(k => k == StreamingResponseUpdateKind.ResponseOutputTextDelta) >= 2);
        Assert.Equal(
            [StreamingResponseUpdateKind.ResponseOutputTextDone, StreamingResponseUpdateKind.ResponseContentPartDone, StreamingResponseUpdateKind.ResponseOutputItemDone, StreamingResponseUpdateKind.ResponseCompleted],
            kinds[^4..]);
        Assert.NotNull(completed);
        Assert.Equal(text.ToString(), completed.GetOutputText());
        Assert.Equal("Hello world!", text.ToString().Trim());
    }

    [Fact]
    public async Task Tools_round_trip_function_call_then_output_with_previous_response_id()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        var client = Client(server);
        var first = (await client.CreateResponseAsync(new CreateResponseOptions("tools", [ResponseItem.CreateUserMessageItem("Weather in Paris?")]) { Tools = { Weather }, Temperature = 0 })).Value;

        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Paris", JsonDocument.Parse(call.FunctionArguments.ToString()).RootElement.GetProperty("city").GetString());
        Assert.False(string.IsNullOrEmpty(call.CallId));

        // The follow-up names the first response; the server replays that conversation and adds the tool output.
        var second = (await client.CreateResponseAsync(new CreateResponseOptions("tools", [ResponseItem.CreateFunctionCallOutputItem(call.CallId, "sunny, 24 C")])
        {
            PreviousResponseId = first.Id,
            Tools = { Weather },
            Temperature = 0,
        })).Value;
        Assert.Equal("Sunny in Paris.", second.GetOutputText().Trim());
        Assert.Equal(first.Id, second.PreviousResponseId);

        // Without the stored response the same conversation is sent in full, as stateless clients do.
        var stateless = (await client.CreateResponseAsync(new CreateResponseOptions("tools",
        [
            ResponseItem.CreateUserMessageItem("Weather in Paris?"),
            ResponseItem.CreateFunctionCallItem(call.CallId, "get_weather", call.FunctionArguments),
            ResponseItem.CreateFunctionCallOutputItem(call.CallId, "sunny, 24 C"),
        ])
        { Tools = { Weather }, Temperature = 0, StoredOutputEnabled = false })).Value;
        Assert.Equal("Sunny in Paris.", stateless.GetOutputText().Trim());
    }

    [Fact]
    public async Task Streamed_function_call_arguments_arrive_as_deltas_and_a_done_item()
    {
        await using var server = await OpenAiTestSupport.StartToolServerAsync();
        var arguments = new StringBuilder();
        FunctionCallResponseItem? done = null;
        await foreach (var update in await Client(server).CreateResponseStreamingAsync(new CreateResponseOptions("tools", [ResponseItem.CreateUserMessageItem("Weather?")]) { Tools = { Weather }, Temperature = 0, StreamingEnabled = true }))
        {
            if (update is StreamingResponseFunctionCallArgumentsDeltaUpdate delta)
            {
                arguments.Append(delta.Delta.ToString());
            }
            else if (update is StreamingResponseOutputItemDoneUpdate { Item: FunctionCallResponseItem item })
            {
                done = item;
            }
        }

        Assert.NotNull(done);
        Assert.Equal("get_weather", done.FunctionName);
        Assert.Equal(done.FunctionArguments.ToString(), arguments.ToString());
        Assert.Equal("Paris", JsonDocument.Parse(arguments.ToString()).RootElement.GetProperty("city").GetString());
    }

    [Fact]
    public async Task A_json_schema_text_format_constrains_the_output()
    {
        await using var server = await ServerHarness.StartAsync(ServerHarness.ModelSettings(("tiny", TestModels.Tiny().Path)));
        var schema = BinaryData.FromString("""{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}""");
        var result = (await Client(server).CreateResponseAsync(new CreateResponseOptions("tiny", [ResponseItem.CreateUserMessageItem("answer")])
        {
            TextOptions = new ResponseTextOptions { TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("answer", schema, null, true) },
            MaxOutputTokenCount = 40,
            Temperature = 0,
        })).Value;
        using var json = JsonDocument.Parse(result.GetOutputText());
        Assert.True(json.RootElement.GetProperty("ok").ValueKind is JsonValueKind.True or JsonValueKind.False, result.GetOutputText());
    }

    [Fact]
    public async Task Stored_responses_are_read_and_deleted_by_their_owner_only()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys());
        var alice = Client(server, AliceKey);
        var bob = Client(server, BobKey);
        var created = (await alice.CreateResponseAsync(new CreateResponseOptions("scripted", [ResponseItem.CreateUserMessageItem("hi")]))).Value;

        Assert.Equal(created.GetOutputText(), (await alice.GetResponseAsync(created.Id)).Value.GetOutputText());
        var foreign = await Assert.ThrowsAsync<ClientResultException>(() => bob.GetResponseAsync(created.Id));
        Assert.Equal(404, foreign.Status);
        var chained = await Assert.ThrowsAsync<ClientResultException>(() => bob.CreateResponseAsync(new CreateResponseOptions("scripted", [ResponseItem.CreateUserMessageItem("more")]) { PreviousResponseId = created.Id }));
        Assert.Equal(404, chained.Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => bob.DeleteResponseAsync(created.Id))).Status);

        Assert.True((await alice.DeleteResponseAsync(created.Id)).Value.Deleted);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => alice.GetResponseAsync(created.Id))).Status);
    }

    [Fact]
    public async Task Store_false_keeps_nothing_and_the_store_is_bounded()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, string?> { ["Responses:MaxStored"] = "2" });
        var client = Client(server);
        var unstored = (await client.CreateResponseAsync(new CreateResponseOptions("scripted", [ResponseItem.CreateUserMessageItem("hi")]) { StoredOutputEnabled = false })).Value;
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(unstored.Id))).Status);

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await client.CreateResponseAsync(new CreateResponseOptions("scripted", [ResponseItem.CreateUserMessageItem("hi")]))).Value.Id);
        }

        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(ids[0]))).Status);
        Assert.Equal(ids[2], (await client.GetResponseAsync(ids[2])).Value.Id);
    }

    [Theory]
    [InlineData("""{"model":"scripted"}""", "input")]
    [InlineData("""{"model":"scripted","input":42}""", "input")]
    [InlineData("""{"model":"scripted","input":[{"type":"input_image","image_url":"x"}]}""", "input[0].type")]
    [InlineData("""{"model":"scripted","input":"hi","max_output_tokens":0}""", "max_output_tokens")]
    [InlineData("""{"model":"scripted","input":"hi","tools":[{"type":"web_search"}]}""", "tools[0].type")]
    [InlineData("""{"model":"scripted","input":"hi","previous_response_id":"resp_missing"}""", "previous_response_id")]
    [InlineData("""{"model":"scripted","input":"hi","background":true}""", "background")]
    public async Task Bad_requests_get_an_OpenAI_error_naming_the_field(string body, string param)
    {
        await using var server = await ServerHarness.StartAsync();
        var (response, json) = await OpenAiTestSupport.PostJsonAsync(server, "v1/responses", body);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, response.StatusCode.ToString());
        Assert.Equal(param, json.RootElement.GetProperty("error").GetProperty("param").GetString());
    }
}
