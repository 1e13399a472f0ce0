using System.CommandLine;
using SovereignInference.Gguf;

namespace SovereignInference.Server.Cli;

/// <summary>
/// `sovereign make-tekken`: writes a small Tekken vocabulary in mistral-common's tekken.json format (Mistral's real
/// special tokens at their ranks, the 256 bytes, BPE merges learned from a built-in corpus), for `make-model --tokenizer`.
/// </summary>
internal static class MakeTekkenCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "File to write (*.json).", Required = true };
        var version = new Option<string>("--version") { Description = "Tokenizer version whose special tokens it has: " + string.Join(", ", TekkenVocabulary.Versions) + ".", DefaultValueFactory = _ => "v13" };
        var merges = new Option<int>("--merges") { Description = "Most BPE merges to learn.", DefaultValueFactory = _ => 1500 };
        var command = new Command("make-tekken", "Write a small generated Tekken vocabulary (tekken.json format) with Mistral's real control tokens.")
        {
            output, version, merges,
        };
        command.SetAction(result =>
        {
            var path = result.GetValue(output)!;
            var vocab = SettingErrors.FromOperatorInput(() => TekkenVocabulary.Generate(result.GetValue(version) ?? "v13", result.GetValue(merges)));
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }

            vocab.Save(path);
            Console.WriteLine($"wrote {path}: {vocab.Version}, {vocab.NumSpecialTokens} special tokens, {vocab.InnerTokens.Count} inner tokens ({vocab.InnerTokens.Count - 256} merges)");
            return 0;
        });
        return command;
    }
}
