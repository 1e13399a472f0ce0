using System.Net;
using System.Text.Json.Nodes;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.Server.Operations.OperationsTestSupport;

namespace SovereignInference.Tests.Server.OpenApi;

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

        var ok = chat["responses"]!["200"]!["content"]!;
        var response = Resolve(document, ok["application/json"]!["schema"]!);
        Assert.Equal(["choices", "created", "id", "model", "object", "usage"], Names(response["properties"]!).Order());
        var message = Resolve(document, Resolve(document, Resolve(document, response["properties"]!["choices"]!)["items"]!)["properties"]!["message"]!);
        Assert.Contains("refusal", Names(message["properties"]!));
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

    private static IEnumerable<string> Names(JsonNode properties) => properties.AsObject().Select(p => p.Key);
}
