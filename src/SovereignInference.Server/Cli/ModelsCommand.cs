using System.CommandLine;
using SovereignInference.Gguf;

namespace SovereignInference.Server.Cli;

/// <summary>`sovereign models inspect FILE`: validates a GGUF in managed code and prints what it is.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "A GGUF file." };
        var inspect = new Command("inspect", "Validate a GGUF file and print architecture, parameters, quantization, context, vocab, chat template, size and SHA-256.") { file };
        inspect.SetAction(result =>
        {
            var path = result.GetValue(file)!;
            try
            {
                Console.WriteLine(GgufModelInfo.From(GgufReader.ReadModel(path), path, computeSha256: true).Describe());
                return 0;
            }
            catch (GgufFormatException ex)
            {
                Console.Error.WriteLine($"invalid GGUF: {ex.Message}");
                return 2;
            }
            catch (IOException ex)
            {
                Console.Error.WriteLine($"cannot read {path}: {ex.Message}");
                return 2;
            }
        });

        return new Command("models", "Inspect model files.") { inspect };
    }
}
