using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace SovereignInference.Server.Http.OpenApi;

/// <summary>
/// The OpenAPI 3.1 document of the HTTP API at GET /openapi.json (Microsoft.AspNetCore.OpenApi). The endpoints read
/// their bodies themselves (HandleAsync(HttpContext, …)), so what they accept and answer is declared as endpoint
/// metadata (<see cref="EndpointDocs"/>) with the real response contracts. The document sits behind the API key like
/// every route but the probes: it names no secret, but an anonymous caller learns nothing about a server it may not use
/// (the same reason an unmatched route answers 401 before 404).
/// </summary>
public static class ApiDocument
{
    /// <summary>The route of the document.</summary>
    public const string Route = "/openapi.json";

    /// <summary>Registers the document generator.</summary>
    public static IServiceCollection AddSovereignOpenApi(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "SovereignInference",
                Version = typeof(ApiDocument).Assembly.GetName().Version?.ToString() ?? "1",
                Description = "OpenAI-compatible inference API (chat, completions, embeddings, models, responses), llama-server's tokenize/detokenize, health probes and Prometheus metrics.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key from Sovereign:ApiKeys, as Authorization: Bearer <key>. Not needed when no key is configured.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<StreamedAs>().FirstOrDefault() is { } streamed && operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content is { } content)
            {
                // Each SSE "data:" line is one chunk of this schema; the stream ends with "data: [DONE]".
                var chunk = await context.GetOrCreateSchemaAsync(streamed.Chunk, null, cancellationToken);
                context.Document?.AddComponent(streamed.Chunk.Name, chunk);
                content["text/event-stream"] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(streamed.Chunk.Name, context.Document) };
            }

            var anonymous = metadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any();
            if (!anonymous)
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", context.Document)] = [] }];
            }
        });
    });

    /// <summary>Maps GET /openapi.json.</summary>
    public static IEndpointRouteBuilder MapSovereignOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(Route);
        return app;
    }
}
