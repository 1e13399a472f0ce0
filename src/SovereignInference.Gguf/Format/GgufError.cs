namespace SovereignInference.Gguf;

/// <summary>
/// The reason a GGUF file was rejected by <see cref="GgufReader"/>. Every member corresponds to one
/// class of malformed input that could otherwise crash or corrupt native llama.cpp code.
/// </summary>
public enum GgufError
{
    /// <summary>The file ends before a fixed-size field that the format requires.</summary>
    Truncated = 1,

    /// <summary>The file does not start with the four bytes <c>GGUF</c>.</summary>
    BadMagic,

    /// <summary>The format version is not 2 or 3.</summary>
    UnsupportedVersion,

    /// <summary>The tensor count or metadata key/value count is larger than the file (or a configured limit) can hold.</summary>
    CountTooLarge,

    /// <summary>A string declares more bytes than remain in the file or than the configured maximum.</summary>
    StringTooLong,

    /// <summary>An array declares more elements than remain in the file or than the configured maximum.</summary>
    ArrayTooLong,

    /// <summary>A metadata value (or array element) type is not a defined <see cref="GgufValueType"/>.</summary>
    InvalidValueType,

    /// <summary>An array contains arrays; nested arrays are not supported by llama.cpp.</summary>
    NestedArray,

    /// <summary>A value is malformed for its type, e.g. a boolean byte that is neither 0 nor 1.</summary>
    InvalidValue,

    /// <summary>A metadata key or tensor name is empty or not valid UTF-8.</summary>
    InvalidName,

    /// <summary><c>general.alignment</c> is not a non-zero power-of-two <c>uint32</c>.</summary>
    BadAlignment,

    /// <summary>The same metadata key occurs twice.</summary>
    DuplicateKey,

    /// <summary>A well-known metadata key (for example <c>tokenizer.ggml.scores</c>) has the wrong type or length.</summary>
    InvalidMetadata,

    /// <summary>The same tensor name occurs twice.</summary>
    DuplicateTensor,

    /// <summary>A tensor has a dimension count outside 1..4, a zero dimension, or an element count that overflows.</summary>
    InvalidTensorDims,

    /// <summary>A tensor uses a ggml type id that is unknown or no longer supported in files.</summary>
    UnknownTensorType,

    /// <summary>A tensor's first dimension is not a multiple of its type's block size.</summary>
    TensorShapeNotBlockAligned,

    /// <summary>A tensor's data offset is not a multiple of the file alignment.</summary>
    MisalignedTensor,

    /// <summary>A tensor's data lies (partly) outside the file.</summary>
    TensorOutOfBounds,

    /// <summary>Two tensors' data ranges overlap.</summary>
    TensorOverlap,

    /// <summary><c>general.architecture</c> is missing or names an architecture this server does not validate and serve.</summary>
    UnsupportedArchitecture,

    /// <summary>
    /// A model hyper-parameter (layer, head or expert count, a dimension, a RoPE or norm parameter, the context length)
    /// is missing, has the wrong type, or has a value llama.cpp would assert on, throw on, or compute garbage from.
    /// </summary>
    InvalidHyperparameter,

    /// <summary>The tokenizer metadata (model, token list, token types, special token ids) is one llama.cpp cannot use safely.</summary>
    InvalidVocabulary,

    /// <summary>A tensor the architecture requires is absent.</summary>
    MissingTensor,

    /// <summary>A tensor's shape differs from the one the hyper-parameters (and vocabulary size) imply.</summary>
    TensorShapeMismatch,

    /// <summary>
    /// A tensor's ggml type cannot serve its role: a norm, bias or RoPE-factor vector that is not F32, or a weight matrix in
    /// an integer, F64 or internal (Q8_1, Q8_K) type that ggml has no matrix multiplication for.
    /// </summary>
    UnsupportedTensorType,
}
