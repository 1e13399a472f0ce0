namespace SovereignInference.Gguf;

/// <summary>
/// The semantic half of GGUF validation: after <see cref="GgufReader"/> has checked the structure, this checks that the
/// file is a model llama.cpp (b9297) can load and run without aborting the process: a supported architecture, sane
/// hyper-parameters (mirroring <c>llama_model::load_hparams</c>), a usable vocabulary (mirroring
/// <c>llama_vocab::load</c>) and the tensors <c>create_tensors</c> expects. Every refusal is a
/// <see cref="GgufFormatException"/> with a specific <see cref="GgufError"/> and a reason naming the key and value.
/// </summary>
public static class GgufModelValidator
{
    /// <summary>
    /// Architectures whose hyper-parameters, vocabulary and tensors are validated here, and so the only ones served.
    /// <c>mistral3</c> (Ministral 3 / Mistral Small 3.x exports, known to llama.cpp since late 2025) shares llama's tensor
    /// layout; any other name is refused because this validator does not mirror its loader.
    /// </summary>
    public static IReadOnlyList<string> SupportedArchitectures { get; } = ["llama", "mistral3"];

    /// <summary>Throws <see cref="GgufFormatException"/> if llama.cpp could not load and run <paramref name="file"/> safely.</summary>
    public static void Validate(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var m = new ModelMetadata(file);
        var arch = file.GetString("general.architecture");
        if (arch is null)
        {
            throw m.Fail(GgufError.UnsupportedArchitecture, "'general.architecture' is missing");
        }

        if (!SupportedArchitectures.Contains(arch))
        {
            throw m.Fail(GgufError.UnsupportedArchitecture,
                $"'general.architecture' is '{arch}'; only {string.Join(", ", SupportedArchitectures.Select(a => $"'{a}'"))} are validated and served");
        }

        var hparams = HyperparameterValidator.Validate(m, arch);
        var vocab = VocabularyValidator.Validate(m, arch);
        LlamaTensorValidator.Validate(m, hparams, vocab);
    }
}
