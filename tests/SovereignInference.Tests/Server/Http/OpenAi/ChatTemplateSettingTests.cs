using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Gguf;
using SovereignInference.Server.Http.OpenAi.Errors;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>
/// A GGUF without a (known) chat template: chat gets a 400 naming the cause and the fix, the load logs a warning,
/// completions still work, and --chat-template (configuration Sovereign:ChatTemplates:ID) makes chat work.
/// </summary>
public sealed class ChatTemplateSettingTests
{
    private const string Chat = """{"model":"bare","messages":[{"role":"user","content":"Hi"}],"temperature":0}""";

    /// <summary>A random model on Mistral's v1 (Llama-2-like) vocabulary without any chat template: nothing to infer a format from.</summary>
    private static GeneratedModel V1Vocabulary() => TestModels.Random(RandomModelSpec.Tiny with
    {
        Name = "sovereign-v1-vocab-no-template",
        TokenizerFile = Path.Combine(AppContext.BaseDirectory, "Engine", "Chat", "Reference", "tokenizer.model.v1"),
        ChatTemplate = null,
    });

    private static Task<ServerHarness> StartAsync(string? template, string? setting = null, bool llama2Vocabulary = false)
    {
        var model = llama2Vocabulary ? V1Vocabulary() : TestModels.Scripted(ScriptedModels.Spec with { Name = "sovereign-no-template", ChatTemplate = template });
        var settings = new Dictionary<string, string?>
        {
            ["Model:0"] = model.Path,
            [$"Aliases:{Path.GetFileName(model.Path)}"] = "bare",
        };
        if (setting is not null)
        {
            settings["ChatTemplates:bare"] = setting;
        }

        return ServerHarness.StartAsync(settings);
    }

    [Theory]
    [InlineData(null, "no chat template")]
    [InlineData("{{ messages | some_filter_llama_cpp_does_not_know }}", "does not know it")]
    public async Task Chat_without_a_usable_template_is_a_400_naming_cause_and_fix_and_completions_still_work(string? template, string cause)
    {
        await using var server = await StartAsync(template, llama2Vocabulary: template is null);

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", Chat);

        Assert.Equal(400, (int)response.StatusCode);
        var message = body.RootElement.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains(cause, message, StringComparison.Ordinal);
        Assert.Contains("--chat-template bare=NAME|FILE", message, StringComparison.Ordinal);
        Assert.Contains("/v1/completions", message, StringComparison.Ordinal);
        Assert.Contains(server.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("bare", StringComparison.Ordinal) && e.Message.Contains(cause, StringComparison.Ordinal));
        Assert.Equal(0, server.Services.GetRequiredService<UnexpectedErrorCounter>().Count);

        var (completion, completionBody) = await OpenAiTestSupport.PostJsonAsync(server, "v1/completions", """{"model":"bare","prompt":"[/INST]","temperature":0,"max_tokens":3}""");
        Assert.Equal(200, (int)completion.StatusCode);
        if (template is not null)
        {
            Assert.Equal(" Hello world!", completionBody.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task Without_a_template_the_format_is_inferred_from_mistral_control_tokens_with_a_warning()
    {
        await using var server = await StartAsync(null);

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", Chat);
        var (_, prompt) = await OpenAiTestSupport.PostJsonAsync(server, "apply-template", """{"model":"bare","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("Hello world!", body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("mistral-v3", prompt.RootElement.GetProperty("format").GetString());
        Assert.Contains(server.Logs.Entries, e => e.EventId == SovereignInference.Engine.Observability.EngineEventIds.ChatTemplateInferred && e.Message.Contains("mistral-v3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_mistral_name_in_configuration_serves_chat_without_the_dummy_prefix_space()
    {
        await using var server = await StartAsync(null, "mistral-v3");

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", Chat);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("Hello world!", body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.DoesNotContain(server.Logs.Entries, e => e.EventId == SovereignInference.Engine.Observability.EngineEventIds.ChatDisabled);
    }

    [Fact]
    public async Task Chatml_by_name_renders_but_refuses_tools()
    {
        await using var server = await StartAsync(null, "chatml");

        var (response, _) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", Chat.Replace("\"temperature\":0", "\"temperature\":0,\"max_tokens\":2", StringComparison.Ordinal));
        var (tools, toolsBody) = await OpenAiTestSupport.PostJsonAsync(
            server,
            "v1/chat/completions",
            """{"model":"bare","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(400, (int)tools.StatusCode);
        Assert.Contains("chatml", toolsBody.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_template_file_in_configuration_is_used()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "mistral.jinja");
        await File.WriteAllTextAsync(file, MistralChatTemplate.Text);
        await using var server = await StartAsync(null, file);

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", Chat);

        Assert.True(response.IsSuccessStatusCode, body.RootElement.ToString());
        Assert.Equal("Hello world!", body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task An_unknown_template_name_fails_the_model_with_the_names()
    {
        await using var server = await StartAsync(MistralChatTemplate.Text, "mistral-v99");

        var (response, body) = await OpenAiTestSupport.PostJsonAsync(server, "v1/chat/completions", Chat);

        Assert.NotEqual(200, (int)response.StatusCode);
        Assert.Contains("mistral-v99", body.RootElement.ToString(), StringComparison.Ordinal);
    }
}
