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
        .WithMetadata(new StreamedAs(typeof(TChunk), "Server-sent events with \"stream\": true: one chunk per \"data:\" line, then \"data: [DONE]\"."));

    /// <summary>200 with <typeparamref name="TResponse"/> as JSON, or with "stream": true the Responses API's named SSE events of <typeparamref name="TEvent"/>.</summary>
    public static RouteHandlerBuilder AnswersJsonOrEvents<TResponse, TEvent>(this RouteHandlerBuilder builder) => builder
        .Produces<TResponse>(StatusCodes.Status200OK, Json)
        .WithMetadata(new StreamedAs(typeof(TEvent), "Server-sent events with \"stream\": true: \"event: <type>\" and one JSON event per \"data:\" line (response.created, response.output_item.added, response.output_text.delta, response.function_call_arguments.delta, the matching .done events, response.completed), numbered by sequence_number."));

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

/// <summary>Endpoint metadata: with "stream": true the 200 answer is text/event-stream of <paramref name="Chunk"/> JSON events, framed as <paramref name="Framing"/> says.</summary>
internal sealed record StreamedAs(Type Chunk, string Framing);
