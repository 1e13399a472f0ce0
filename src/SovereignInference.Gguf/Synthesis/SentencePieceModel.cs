using System.Text;

namespace SovereignInference.Gguf;

/// <summary>
/// Reads a SentencePiece model file (the protobuf ModelProto Mistral ships as <c>tokenizer.model</c>, e.g.
/// mistral-common's <c>tokenizer.model.v3</c>) into a vocabulary, as llama.cpp's converter does: every piece with
/// its score and type (normal, unknown, control, user-defined, unused, byte), in id order.
/// </summary>
public static class SentencePieceModel
{
    /// <exception cref="InvalidDataException">The file is not a SentencePiece model.</exception>
    public static TestVocabulary Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var data = File.ReadAllBytes(path);
        List<VocabularyToken> tokens;
        try
        {
            tokens = Pieces(data);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException)
        {
            // A length or varint that runs past the end of the file, from any of the nested messages.
            throw new InvalidDataException($"{path}: not a SentencePiece model ({e.Message})", e);
        }

        if (tokens.Count < 3 || tokens[TestVocabulary.BosId].Text != "<s>" || tokens[TestVocabulary.EosId].Text != "</s>")
        {
            throw new InvalidDataException($"{path}: not a SentencePiece model with <unk>, <s>, </s> as ids 0, 1, 2");
        }

        return new TestVocabulary(tokens);
    }

    /// <summary>The pieces of a ModelProto, in id order.</summary>
    private static List<VocabularyToken> Pieces(byte[] data)
    {
        var tokens = new List<VocabularyToken>();
        var pos = 0;
        while (pos < data.Length)
        {
            var (field, wire) = Key(data, ref pos);
            if (field == 1 && wire == 2)
            {
                var length = (int)Varint(data, ref pos);
                tokens.Add(Piece(data.AsSpan(pos, length), tokens.Count));
                pos += length;
            }
            else
            {
                Skip(data, ref pos, wire);
            }
        }

        return tokens;
    }

    private static VocabularyToken Piece(ReadOnlySpan<byte> data, int id)
    {
        string text = "";
        float score = 0;
        var type = TokenType.Normal;
        var pos = 0;
        while (pos < data.Length)
        {
            var (field, wire) = Key(data, ref pos);
            switch (field)
            {
                case 1 when wire == 2:
                    var length = (int)Varint(data, ref pos);
                    text = Encoding.UTF8.GetString(data.Slice(pos, length));
                    pos += length;
                    break;
                case 2 when wire == 5:
                    score = BitConverter.ToSingle(data.Slice(pos, 4));
                    pos += 4;
                    break;
                case 3 when wire == 0:
                    type = (TokenType)(int)Varint(data, ref pos);
                    break;
                default:
                    Skip(data, ref pos, wire);
                    break;
            }
        }

        return new VocabularyToken(id, text, score, type);
    }

    private static (int Field, int Wire) Key(ReadOnlySpan<byte> data, ref int pos)
    {
        var key = Varint(data, ref pos);
        return ((int)(key >> 3), (int)(key & 7));
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length)
            {
                throw new InvalidDataException("truncated varint");
            }

            var b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException("varint too long");
    }

    private static void Skip(ReadOnlySpan<byte> data, ref int pos, int wire)
    {
        switch (wire)
        {
            case 0:
                Varint(data, ref pos);
                break;
            case 1:
                pos += 8;
                break;
            case 2:
                var length = (int)Varint(data, ref pos);
                pos += length;
                break;
            case 5:
                pos += 4;
                break;
            default:
                throw new InvalidDataException($"unsupported protobuf wire type {wire}");
        }

        if (pos > data.Length)
        {
            throw new InvalidDataException("truncated SentencePiece model");
        }
    }
}
