using SovereignInference.Server.Http.OpenAi.Contracts;

namespace SovereignInference.Server.Http.OpenApi;

/// <summary>Declares what an endpoint accepts and answers, for the OpenAPI document.</summary>
internal static class EndpointDocs
{
    private const string Json = "application/json";
    private const string EventStream = "text/event-stream";

    /// <summary>
    /// A JSON request body of <typeparamref name="TRequest"/>. Not Accepts&lt;T&gt;: its content-type metadata would make
    /// routing answer a non-JSON body with an empty 415 before the endpoint writes its OpenAI error.
    /// </summary>
    public static RouteHandlerBuilder AcceptsJson<TRequest>(this RouteHandlerBuilder builder)
        where TRequest : notnull => builder.WithMetadata(new RequestShape(typeof(TRequest)));

    /// <summary>200 with <typeparamref name="TResponse"/> as JSON.</summary>
    public static RouteHandlerBuilder AnswersJson<TResponse>(this RouteHandlerBuilder builder) =>
        builder.Produces<TResponse>(StatusCodes.Status200OK, Json);

    /// <summary>200 with <typeparamref name="TResponse"/> as JSON, or with "stream": true an SSE stream of <typeparamref name="TChunk"/> events ending in "data: [DONE]".</summary>
    public static RouteHandlerBuilder AnswersJsonOrStream<TResponse, TChunk>(this RouteHandlerBuilder builder) => builder
        .Produces<TResponse>(StatusCodes.Status200OK, Json)
        .WithMetadata(new StreamedAs(typeof(TChunk)));

    /// <summary>The OpenAI error body on the statuses every OpenAI route can answer (and <paramref name="more"/>).</summary>
    public static RouteHandlerBuilder AnswersOpenAiErrors(this RouteHandlerBuilder builder, params int[] more)
    {
        int[] statuses = [StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status429TooManyRequests, StatusCodes.Status500InternalServerError, StatusCodes.Status503ServiceUnavailable, .. more];
        foreach (var status in statuses.Distinct().Order())
        {
            builder.Produces<ErrorResponse>(status, Json);
        }

        return builder;
    }
}

/// <summary>Endpoint metadata for the OpenAPI document only: the JSON body the endpoint reads is <paramref name="Shape"/>.</summary>
internal sealed record RequestShape(Type Shape);

/// <summary>Endpoint metadata: with "stream": true the 200 answer is text/event-stream of <paramref name="Chunk"/> JSON events.</summary>
internal sealed record StreamedAs(Type Chunk);
