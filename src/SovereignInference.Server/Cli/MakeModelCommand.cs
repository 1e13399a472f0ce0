using System.CommandLine;
using System.Diagnostics;
using SovereignInference.Gguf;
using SovereignInference.Server.Hosting;

namespace SovereignInference.Server.Cli;

/// <summary>`sovereign make-model`: writes a generated GGUF (random weights from a seed, or the scripted demo).</summary>
internal static class MakeModelCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "File to write (*.gguf).", Required = true };
        var preset = new Option<string>("--preset") { Description = "tiny (fast tests), bench100m (~100M parameters, benchmarks), demo (scripted greeting) or tools (scripted: calls get_weather, then answers the result).", DefaultValueFactory = _ => "tiny" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "A tokenizer whose vocabulary the random model takes: a SentencePiece tokenizer.model (e.g. a Mistral model's) or a Tekken vocabulary *.json (mistral-common's tekken.json format, e.g. from `sovereign make-tekken`)." };
        var chatTemplate = new Option<string?>("--chat-template") { Description = "Chat template to embed: " + string.Join(", ", ChatTemplateTexts.Names) + ", or a Jinja file. Mistral names add the control tokens they need to a generated vocabulary." };
        var type = new Option<string?>("--type") { Description = "Weight type: f32, f16 or q8_0 (default f16)." };
        var layers = new Option<int?>("--layers") { Description = "Override the preset's layer count." };
        var embd = new Option<int?>("--embd") { Description = "Override the embedding length." };
        var heads = new Option<int?>("--heads") { Description = "Override the attention head count." };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "Override the KV head count." };
        var ff = new Option<int?>("--ff") { Description = "Override the feed-forward length." };
        var ctx = new Option<int?>("--ctx") { Description = "Override the trained context length." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of the random weights." };
        var textOnly = new Option<bool>("--text-only-output") { Description = "Random presets: zero the output rows of byte, control and unknown tokens, so greedy output is valid UTF-8 text (peers that parse their output reject lone byte tokens)." };
        var command = new Command("make-model", "Write a generated llama-architecture GGUF model (no download needed).")
        {
            output, preset, type, layers, embd, heads, kvHeads, ff, ctx, seed, tokenizer, chatTemplate, textOnly,
        };

        command.SetAction(result =>
        {
            var path = result.GetValue(output)!;
            var presetName = result.GetValue(preset) ?? "tiny";
            if (!TestModelGenerator.Presets.Contains(presetName, StringComparer.OrdinalIgnoreCase))
            {
                throw new ConfigurationException($"--preset must be one of {string.Join(", ", TestModelGenerator.Presets)} (got '{presetName}')");
            }

            var typeName = result.GetValue(type);
            GgmlType? tensorType = typeName?.ToUpperInvariant() switch
            {
                null => null,
                "F32" => GgmlType.F32,
                "F16" => GgmlType.F16,
                "Q8_0" => GgmlType.Q8_0,
                _ => throw new ConfigurationException($"--type must be f32, f16 or q8_0 (got '{typeName}')"),
            };

            var started = Stopwatch.GetTimestamp();
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }

            var shapeOverridden = new object?[] { result.GetValue(layers), result.GetValue(embd), result.GetValue(heads), result.GetValue(kvHeads), result.GetValue(ff), result.GetValue(ctx), result.GetValue(seed) }.Any(v => v is not null);
            var textOnlyOutput = result.GetValue(textOnly);
            var tokenizerFile = result.GetValue(tokenizer);
            var templateName = result.GetValue(chatTemplate);
            (string Template, IReadOnlyList<string> ControlTokens)? template = templateName is null ? null
                : ChatTemplateTexts.Resolve(templateName) ?? throw new ConfigurationException($"--chat-template must be one of {string.Join(", ", ChatTemplateTexts.Names)} or an existing file (got '{templateName}')");
            if (tokenizerFile is not null && !File.Exists(tokenizerFile))
            {
                throw new ConfigurationException($"--tokenizer: no such file '{tokenizerFile}'");
            }

            var scripted = presetName.ToUpperInvariant() switch
            {
                "DEMO" => TestModelGenerator.DemoSpec,
                "TOOLS" => TestModelGenerator.ToolsSpec,
                _ => null,
            };
            GeneratedModel model;
            if (scripted is not null && textOnlyOutput)
            {
                throw new ConfigurationException($"--text-only-output applies to random presets (tiny, bench100m), not to the scripted '{presetName}'");
            }

            if (scripted is not null && (template is not null || tokenizerFile is not null))
            {
                if (tokenizerFile is not null)
                {
                    throw new ConfigurationException($"--tokenizer applies to random presets (tiny, bench100m), not to the scripted '{presetName}'");
                }

                model = SettingErrors.FromOperatorInput(() => TestModelGenerator.WriteScripted(path, scripted with
                {
                    ChatTemplate = template!.Value.Template,
                    ExtraControlTokens = template.Value.ControlTokens,
                    TensorType = tensorType ?? scripted.TensorType,
                }));
            }
            else if (scripted is null && (shapeOverridden || template is not null || tokenizerFile is not null || textOnlyOutput))
            {
                var baseSpec = presetName.Equals("bench100m", StringComparison.OrdinalIgnoreCase) ? RandomModelSpec.Bench100M : RandomModelSpec.Tiny;
                var shape = baseSpec.Shape with
                {
                    Layers = result.GetValue(layers) ?? baseSpec.Shape.Layers,
                    EmbeddingLength = result.GetValue(embd) ?? baseSpec.Shape.EmbeddingLength,
                    HeadCount = result.GetValue(heads) ?? baseSpec.Shape.HeadCount,
                    HeadCountKv = result.GetValue(kvHeads) ?? baseSpec.Shape.HeadCountKv,
                    FeedForwardLength = result.GetValue(ff) ?? baseSpec.Shape.FeedForwardLength,
                    ContextLength = result.GetValue(ctx) ?? baseSpec.Shape.ContextLength,
                    Seed = result.GetValue(seed) ?? baseSpec.Shape.Seed,
                    TensorType = tensorType ?? baseSpec.Shape.TensorType,
                };
                model = SettingErrors.FromOperatorInput(() => TestModelGenerator.WriteRandom(path, baseSpec with
                {
                    Shape = shape,
                    TokenizerFile = tokenizerFile,
                    ChatTemplate = template?.Template ?? baseSpec.ChatTemplate,
                    ExtraControlTokens = template?.ControlTokens ?? [],
                    TextOnlyOutput = textOnlyOutput,
                }));
            }
            else
            {
                model = SettingErrors.FromOperatorInput(() => TestModelGenerator.WritePreset(path, presetName, tensorType));
            }

            var info = GgufModelInfo.Read(model.Path);
            Console.WriteLine($"wrote {model.Path} in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.00}s");
            Console.WriteLine(info.Describe());
            return 0;
        });
        return command;
    }
}
