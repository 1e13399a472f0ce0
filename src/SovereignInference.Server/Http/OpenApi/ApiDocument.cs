using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
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
    public static IServiceCollection AddSovereignOpenApi(this IServiceCollection services)
    {
        // The schemas follow these options: numbers are numbers (the parsers refuse "0.5" for 0.5), not the web default's
        // number-or-numeric-string. The endpoints write with their own source-generated contexts, so nothing else changes.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        return services.AddOpenApi(Configure);
    }

    private static void Configure(OpenApiOptions options)
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
            var json = context.ApplicationServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            if (metadata.OfType<RequestShape>().FirstOrDefault() is { } request)
            {
                var body = await ComponentAsync(context, request.Shape, json, cancellationToken);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = body } },
                };
            }

            if (metadata.OfType<StreamedAs>().FirstOrDefault() is { } streamed && operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content is { } content)
            {
                content["text/event-stream"] = new OpenApiMediaType { Schema = await ComponentAsync(context, streamed.Chunk, json, cancellationToken) };
                ok.Description = $"OK. {streamed.Framing}";
            }

            var anonymous = metadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any();
            if (!anonymous)
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", context.Document)] = [] }];
            }
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            // A null member is left out (the contracts' WhenWritingNull; an absent request field reads as null), so a
            // nullable member is required only where the contract writes null explicitly ("refusal": null).
            if (context.JsonTypeInfo.Kind == JsonTypeInfoKind.Object && schema.Properties is { Count: > 0 })
            {
                foreach (var property in context.JsonTypeInfo.Properties)
                {
                    if (WritesNull(property))
                    {
                        schema.Required ??= new HashSet<string>();
                        schema.Required.Add(property.Name);
                    }
                    else if (property.IsGetNullable)
                    {
                        schema.Required?.Remove(property.Name);
                    }
                }
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>A component schema of <paramref name="type"/> (made once per document), referenced.</summary>
    private static async Task<IOpenApiSchema> ComponentAsync(OpenApiOperationTransformerContext context, Type type, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        if (context.Document?.Components?.Schemas?.ContainsKey(type.Name) != true)
        {
            var schema = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
            AllowNulls(schema, json.GetTypeInfo(type), json);
            context.Document?.AddComponent(type.Name, schema);
        }

        return new OpenApiSchemaReference(type.Name, context.Document);
    }

    /// <summary>
    /// Marks the nullable members of an inline schema (from GetOrCreateSchemaAsync, which leaves out what the document's
    /// own references get: null for a nullable member) as nullable, following the type's members.
    /// </summary>
    private static void AllowNulls(IOpenApiSchema schema, JsonTypeInfo type, JsonSerializerOptions json)
    {
        if (schema is not OpenApiSchema inline)
        {
            return;
        }

        if (type.Kind == JsonTypeInfoKind.Enumerable && inline.Items is { } items && type.ElementType is { } element)
        {
            AllowNulls(items, json.GetTypeInfo(element), json);
        }

        if (type.Kind != JsonTypeInfoKind.Object || inline.Properties is null)
        {
            return;
        }

        foreach (var property in type.Properties)
        {
            if (!inline.Properties.TryGetValue(property.Name, out var member))
            {
                continue;
            }

            var memberType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            AllowNulls(member, json.GetTypeInfo(memberType), json);
            if (property.IsGetNullable && member is OpenApiSchema { Type: { } types } typed && !types.HasFlag(JsonSchemaType.Null))
            {
                typed.Type = types | JsonSchemaType.Null;
            }
        }
    }

    private static bool WritesNull(JsonPropertyInfo property) =>
        property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: false)
            .OfType<JsonIgnoreAttribute>().Any(a => a.Condition == JsonIgnoreCondition.Never) == true;

    /// <summary>Maps GET /openapi.json.</summary>
    public static IEndpointRouteBuilder MapSovereignOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(Route);
        return app;
    }
}
