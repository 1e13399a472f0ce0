using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Hosting;
using SovereignInference.Server.Http.OpenAi.Contracts;
using SovereignInference.Server.Http.OpenAi.Validation;

namespace SovereignInference.Server.Http.OpenAi.Endpoints;

/// <summary>
/// POST /apply-template {"model"?, "messages", "tools"?, "tool_choice"?, "reasoning_effort"?} → {"prompt", "format"}
/// (llama-server's shape, plus the chat format's name): the exact prompt the conversation becomes, rendered and
/// validated as /v1/chat/completions would, without generating. Without "model" the first ready model answers.
/// </summary>
internal static class ApplyTemplateEndpoint
{
    public static Task HandleAsync(HttpContext context, InferenceEngine engine) => OpenAiCall.RunAsync(context, async () =>
    {
        using var document = await RequestBody.ReadJsonAsync(context);
        var root = document.RootElement;
        var model = TokenizeEndpoints.Resolve(engine, root);
        var messages = ChatRequest.ParseMessages(root);
        var tools = ChatRequest.ParseTools(root);
        var (choice, function) = ChatRequest.ParseToolChoice(root, tools);
        var turn = ChatTurn.Prepare(model, messages, tools, choice, function, ChatRequest.ParseReasoningEffort(root));
        var response = new ApplyTemplateResponse(turn.Prompt.Text, ChatFormatter.ChoiceOf(model).Describe());
        await Results.Json(response, OpenAiJsonContext.Default.ApplyTemplateResponse).ExecuteAsync(context);
    });
}
