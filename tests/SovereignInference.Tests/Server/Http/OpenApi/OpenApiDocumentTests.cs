using System.Net;
using System.Text.Json.Nodes;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Http.OpenApi;

/// <summary>GET /openapi.json describes every HTTP route the server maps, with the real bodies, behind the API key.</summary>
public sealed class OpenApiDocumentTests
{
    [Fact]
    public async Task The_document_lists_every_mapped_route_with_its_methods_and_every_schema_it_references_exists()
    {
        await using var server = await ServerHarness.StartAsync();
        var document = JsonNode.Parse(await server.Http.GetStringAsync("openapi.json"))!.AsObject();

        Assert.StartsWith("3.", (string)document["openapi"]!, StringComparison.Ordinal);
        var paths = document["paths"]!.AsObject();
        var missing = new List<string>();
        foreach (var (method, template) in HttpRoutes(server))
        {
            if (paths[template]?[method.ToLowerInvariant()] is null)
            {
                missing.Add($"{method} {template}");
            }
        }

        Assert.True(missing.Count == 0, "not in the document: " + string.Join(", ", missing));

        var schemas = document["components"]?["schemas"]?.AsObject() ?? [];
        var references = References(document).ToList();
        Assert.NotEmpty(references);
        Assert.All(references, reference =>
        {
            Assert.StartsWith("#/components/schemas/", reference, StringComparison.Ordinal);
            Assert.True(schemas.ContainsKey(reference["#/components/schemas/".Length..]), $"{reference} is referenced but not defined");
        });
    }

    [Fact]
    public async Task Chat_completions_are_described_with_the_real_request_response_chunk_and_error_bodies()
    {
        await using var server = await ServerHarness.StartAsync();
        var document = JsonNode.Parse(await server.Http.GetStringAsync("openapi.json"))!;
        var chat = document["paths"]!["/v1/chat/completions"]!["post"]!;

        var request = Resolve(document, chat["requestBody"]!["content"]!["application/json"]!["schema"]!);
        Assert.Contains("messages", Names(request["properties"]!));
        Assert.Contains("tools", Names(request["properties"]!));
        Assert.Equal(["messages", "model"], Strings(request["required"]).Order());
        Assert.DoesNotContain("string", Strings(request["properties"]!["temperature"]!["type"]));

        var ok = chat["responses"]!["200"]!["content"]!;
        var response = Resolve(document, ok["application/json"]!["schema"]!);
        Assert.Equal(["choices", "created", "id", "model", "object", "usage"], Names(response["properties"]!).Order());
        var message = Resolve(document, Resolve(document, Resolve(document, response["properties"]!["choices"]!)["items"]!)["properties"]!["message"]!);
        Assert.Contains("refusal", Names(message["properties"]!));
        // Written as null when empty ("refusal": null, "content": null) versus left out (tool_calls).
        Assert.Equal(["content", "refusal", "role"], Strings(message["required"]).Order());
        var chunk = Resolve(document, ok["text/event-stream"]!["schema"]!);
        Assert.Contains("delta", Names(Resolve(document, Resolve(document, chunk["properties"]!["choices"]!)["items"]!)["properties"]!));

        var error = Resolve(document, chat["responses"]!["400"]!["content"]!["application/json"]!["schema"]!);
        Assert.Equal(["error"], Names(error["properties"]!));
        Assert.NotNull(chat["security"]);
        Assert.Null(document["paths"]!["/health/live"]!["get"]!["security"]);
    }

    [Fact]
    public async Task The_document_needs_a_key_like_every_route_but_the_probes()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys());

        using var anonymous = await server.Http.GetAsync("openapi.json");
        using var withKey = await server.Http.SendAsync(Get("openapi.json", AliceKey));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Equal("application/json", withKey.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("POST", "/v1/chat/completions", "v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"logprobs":true,"top_logprobs":2}""", 200)]
    [InlineData("POST", "/v1/chat/completions", "v1/chat/completions", """{"model":"scripted","messages":[]}""", 400)]
    [InlineData("POST", "/v1/completions", "v1/completions", """{"model":"scripted","prompt":"[/INST]","logprobs":2}""", 200)]
    [InlineData("POST", "/v1/embeddings", "v1/embeddings", """{"model":"tiny","input":["a","b"]}""", 200)]
    [InlineData("GET", "/v1/models", "v1/models", null, 200)]
    [InlineData("GET", "/v1/models/{id}", "v1/models/tiny", null, 200)]
    [InlineData("GET", "/v1/models/{id}", "v1/models/nope", null, 404)]
    [InlineData("POST", "/tokenize", "tokenize", """{"content":"Hello world","with_pieces":false}""", 200)]
    [InlineData("POST", "/detokenize", "detokenize", """{"tokens":[1,2,3]}""", 200)]
    [InlineData("POST", "/v1/responses", "v1/responses", """{"model":"scripted","input":"Hi"}""", 200)]
    [InlineData("GET", "/v1/responses/{id}", "v1/responses/resp_missing", null, 404)]
    [InlineData("GET", "/health/live", "health/live", null, 200)]
    [InlineData("GET", "/health/ready", "health/ready", null, 200)]
    public async Task Real_answers_are_valid_against_the_documents_own_schemas(string method, string template, string path, string? body, int status)
    {
        var settings = ServerHarness.TinyAndScripted();
        settings["Embeddings:0"] = "tiny";
        await using var server = await ServerHarness.StartAsync(settings);
        var document = JsonNode.Parse(await server.Http.GetStringAsync("openapi.json"))!;
        var responses = document["paths"]![template]![method.ToLowerInvariant()]!["responses"]!;

        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await server.Http.SendAsync(request);
        var json = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, (int)response.StatusCode);
        AssertValid(document, responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)]!["content"]!["application/json"]!["schema"]!, json);

        if (body is not null && status == 200 && responses["200"]!["content"]!["text/event-stream"] is { } stream)
        {
            var usage = template == "/v1/responses" ? "" : ""","stream_options":{"include_usage":true}""";
            using var streamed = new StringContent(body.TrimEnd()[..^1] + ""","stream":true""" + usage + "}", System.Text.Encoding.UTF8, "application/json");
            using var sse = await server.Http.PostAsync(path, streamed);
            Assert.Equal(200, (int)sse.StatusCode);
            var events = (await sse.Content.ReadAsStringAsync()).Split('\n')
                .Where(line => line.StartsWith("data: ", StringComparison.Ordinal) && line != "data: [DONE]").ToList();
            Assert.NotEmpty(events);
            foreach (var data in events)
            {
                AssertValid(document, stream["schema"]!, data["data: ".Length..]);
            }
        }
    }

    /// <summary>Validates <paramref name="json"/> against a schema of the document (OpenAPI 3.1: JSON Schema 2020-12, references into components).</summary>
    private static void AssertValid(JsonNode document, JsonNode schema, string json)
    {
        var root = schema.DeepClone().AsObject();
        root["components"] = document["components"]!.DeepClone();
        var errors = SchemaValidation.Errors(SchemaValidation.FromText(root.ToJsonString()), JsonNode.Parse(json));
        Assert.True(errors.Count == 0, $"{string.Join(Environment.NewLine, errors)}{Environment.NewLine}{json}");
    }

    /// <summary>The server's HTTP routes as (method, OpenAPI path template), read from its own endpoint table.</summary>
    private static List<(string Method, string Template)> HttpRoutes(ServerHarness server)
    {
        var routes = new List<(string, string)>();
        foreach (var endpoint in server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is not null || endpoint.RoutePattern.RawText is not { } raw
                || raw.Contains("unimplemented", StringComparison.Ordinal) || raw == "/openapi.json")
            {
                continue;
            }

            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                routes.Add((method, "/" + raw.Trim('/')));
            }
        }

        Assert.NotEmpty(routes);
        return routes;
    }

    private static IEnumerable<string> References(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => p.Key == "$ref" && p.Value is JsonValue v ? [(string)v!] : References(p.Value)),
        JsonArray a => a.SelectMany(References),
        _ => [],
    };

    private static JsonNode Resolve(JsonNode document, JsonNode schema)
    {
        if (schema["$ref"] is JsonValue reference)
        {
            return document["components"]!["schemas"]![((string)reference!).Split('/')[^1]]!;
        }

        // A nullable reference is written as anyOf/oneOf [ {$ref}, {type: null} ].
        foreach (var combinator in new[] { "anyOf", "oneOf", "allOf" })
        {
            if (schema[combinator] is JsonArray options && options.FirstOrDefault(o => o?["$ref"] is not null) is { } option)
            {
                return Resolve(document, option);
            }
        }

        return schema;
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonArray array => array.Select(n => (string)n!),
        JsonValue value => [(string)value!],
        _ => [],
    };

    private static IEnumerable<string> Names(JsonNode properties) => properties.AsObject().Select(p => p.Key);
}
