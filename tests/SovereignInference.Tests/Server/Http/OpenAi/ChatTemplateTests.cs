using System.Net;
using SovereignInference.Gguf;
using SovereignInference.Tests.TestSupport;

namespace SovereignInference.Tests.Server.Http.OpenAi;

/// <summary>
/// Chat on models whose template is not Mistral's: llama.cpp's template engine renders the conversation. Each
/// of these templates ends the prompt with "\n" after the assistant header, and the scripted model answers
/// " Hello world!" only after "\n" (after a Mistral "[/INST]" it would end at once), so the reply shows
/// which renderer ran.
/// </summary>
public sealed class ChatTemplateTests
{
    public const string ChatMl =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public const string Llama3 =
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}" +
        "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    public const string Gemma =
        "{{ bos_token }}{% for message in messages %}{{ '<start_of_turn>' + message['role'] + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

    private static Dictionary<string, string?> ModelWith(string name, string? template)
    {
        var model = TestModels.Scripted(new ScriptedModelSpec
        {
            Name = "sovereign-template-" + name,
            ChatTemplate = template,
            Transitions = [.. ScriptedModelSpec.Chain("<0x0A>", "▁Hello", "▁world", "!", "</s>")],
        });
        return ServerHarness.ModelSettings((name, model.Path));
    }

    [Theory]
    [InlineData("chatml", ChatMl)]
    [InlineData("llama3", Llama3)]
    [InlineData("gemma", Gemma)]
    public async Task A_non_mistral_template_is_rendered_by_llama_cpp(string name, string template)
    {
        await using var server = await ServerHarness.StartAsync(ModelWith(name, template));

        var (response, json) = await OpenAiTestSupport.PostJsonAsync(
            server, "v1/chat/completions", $$"""{"model":"{{name}}","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"temperature":0}""");

        Assert.True(response.StatusCode == HttpStatusCode.OK, json.RootElement.ToString());
        Assert.Equal("Hello world!", json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.True(json.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 8);

        var (tools, toolsJson) = await OpenAiTestSupport.PostJsonAsync(
            server, "v1/chat/completions", """{"model":"MODEL","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}""".Replace("MODEL", name, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, tools.StatusCode);
        Assert.Contains("tool calling needs a Mistral chat template", toolsJson.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(server.Logs.Errors);
    }

    [Fact]
    public async Task A_template_llama_cpp_does_not_know_is_a_400_that_points_to_completions()
    {
        await using var server = await ServerHarness.StartAsync(ModelWith("odd", "{{ messages[0]['content'] }} <<odd-template>>"));

        var (response, json) = await OpenAiTestSupport.PostJsonAsync(
            server, "v1/chat/completions", """{"model":"odd","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {json.RootElement}\n{server.Logs.Errors}");
        Assert.Contains("/v1/completions", json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        var (completion, _) = await OpenAiTestSupport.PostJsonAsync(server, "v1/completions", """{"model":"odd","prompt":"Hi\n","max_tokens":3,"temperature":0}""");
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        Assert.Empty(server.Logs.Errors);
    }
}
