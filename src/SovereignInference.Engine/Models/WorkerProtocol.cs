using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;

namespace SovereignInference.Engine.Models;

/// <summary>
/// The server ↔ worker wire format over a Unix domain socket: frames of <c>u32 length | u8 type | payload</c>,
/// little-endian. Per request the server sends one <see cref="FrameType.Submit"/> (prompt token ids and the sampling
/// parameters) and at most one <see cref="FrameType.Cancel"/>; per scheduler step the worker sends one
/// <see cref="FrameType.Step"/> carrying that step's tokens for all sequences. Text never crosses: the server
/// tokenizes, detokenizes and matches stop strings itself (see docs/operations.md, "Worker processes").
/// </summary>
internal static class WorkerProtocol
{
    /// <summary>Largest frame either side accepts (an embedding result of 2048 inputs × 8192 floats fits).</summary>
    public const int MaxFrameBytes = 256 << 20;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public enum FrameType : byte
    {
        /// <summary>Server → worker, first frame: <see cref="WorkerSpec"/> as JSON.</summary>
        Init = 1,

        /// <summary>Server → worker: i64 id, i32 max new tokens, i32 n, n × i32 prompt, JSON <see cref="SubmitOptions"/>.</summary>
        Submit = 2,

        /// <summary>Server → worker: i64 id, u8 keep cache.</summary>
        Cancel = 3,

        /// <summary>Server → worker: i64 id, i32 inputs, per input i32 n + n × i32.</summary>
        Embed = 4,

        /// <summary>Worker → server after loading: <see cref="WorkerReady"/> as JSON.</summary>
        Ready = 10,

        /// <summary>Worker → server: the load failed; UTF-8 reason. The worker exits after it.</summary>
        LoadFailed = 11,

        /// <summary>Worker → server, once per scheduler step: i32 entries, each <see cref="EntryKind"/> + fields.</summary>
        Step = 12,

        /// <summary>Worker → server: i64 id, i32 count, i32 dims, count × dims × f32.</summary>
        EmbedResult = 13,

        /// <summary>Worker → server: i64 id, error (see <see cref="WriteError"/>).</summary>
        EmbedError = 14,
    }

    public enum EntryKind : byte
    {
        /// <summary>i64 id, i32 cached prompt tokens: the sequence got a slot.</summary>
        Started = 0,

        /// <summary>i64 id, i32 token, f32 logprob, i32 k, k × (i32 token, f32 logprob).</summary>
        Token = 1,

        /// <summary>i64 id, u8 finish reason, u8 has error, [error].</summary>
        Final = 2,

        /// <summary>The step's own record: i32 decode seqs, i32 prefill tokens, i32 prefill seqs, i32 active, f64 s, f64 decode s.</summary>
        StepStats = 3,
    }

    /// <summary>The options of one model load, sent in <see cref="FrameType.Init"/>: the backend's own load spec and the scheduler's settings.</summary>
    public sealed record WorkerSpec(
        string Id,
        ModelLoadSpec Load,
        int QueueCapacity,
        int PrefillChunk,
        double MaxStepFactor,
        Dictionary<string, int> UserPriorities,
        string? NativeLibDir);

    public sealed record WorkerReady(int SequenceContextSize, int EmbeddingMaxTokens, int Pid);

    /// <summary>What the scheduler needs of a request beyond its prompt.</summary>
    public sealed record SubmitOptions(string? User, bool IgnoreEos, SamplingParams Sampling, string? Gbnf, string? GrammarRoot, int? GrammarTrigger);

    /// <summary>A growable little-endian frame under construction.</summary>
    public sealed class FrameBuilder
    {
        private byte[] _buffer = new byte[256];
        private int _length;

        public void Begin(FrameType type)
        {
            _length = 4;
            U8((byte)type);
        }

        public int EntryCount { get; set; }

        public void U8(byte value)
        {
            Ensure(1);
            _buffer[_length++] = value;
        }

        public void I32(int value)
        {
            Ensure(4);
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), value);
            _length += 4;
        }

        public void I64(long value)
        {
            Ensure(8);
            BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_length), value);
            _length += 8;
        }

        public void F32(float value)
        {
            Ensure(4);
            BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_length), value);
            _length += 4;
        }

        public void F64(double value)
        {
            Ensure(8);
            BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_length), value);
            _length += 8;
        }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        public void String(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            I32(bytes.Length);
            Bytes(bytes);
        }

        /// <summary>Writes the length prefix and returns the whole frame.</summary>
        public ReadOnlySpan<byte> Finish()
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)(_length - 4));
            return _buffer.AsSpan(0, _length);
        }

        /// <summary>Overwrites an i32 written earlier at <paramref name="offset"/> (entry counts).</summary>
        public void PatchI32(int offset, int value) => BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(offset), value);

        public int Position => _length;

        private void Ensure(int more)
        {
            if (_length + more > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
            }
        }
    }

    /// <summary>Reads one frame (type + payload) from <paramref name="stream"/>; null at a clean end of stream.</summary>
    public static async Task<(FrameType Type, byte[] Payload, int Length)?> ReadFrameAsync(Stream stream, byte[] header, CancellationToken cancellationToken)
    {
        var read = await stream.ReadAtLeastAsync(header.AsMemory(0, 4), 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < 4)
        {
            return null;
        }

        var payload = PayloadFor(header);
        await stream.ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
        return ((FrameType)payload[0], payload, payload.Length);
    }

    /// <summary>
    /// <see cref="ReadFrameAsync"/> for a thread of its own that does nothing else: a blocking read wakes that thread
    /// straight from the socket. Awaiting the asynchronous read there instead woke the socket engine's thread, then a
    /// pool thread for the continuation, then this one, which spun before it slept: three wake-ups per token frame,
    /// each taking a core from the decode threads for a moment (hundreds a second at one stream).
    /// </summary>
    public static (FrameType Type, byte[] Payload, int Length)? ReadFrame(Stream stream, byte[] header)
    {
        if (stream.ReadAtLeast(header.AsSpan(0, 4), 4, throwOnEndOfStream: false) < 4)
        {
            return null;
        }

        var payload = PayloadFor(header);
        stream.ReadExactly(payload);
        return ((FrameType)payload[0], payload, payload.Length);
    }

    private static byte[] PayloadFor(byte[] header)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length is < 1 or > MaxFrameBytes)
        {
            throw new InvalidDataException($"worker frame of {length} bytes is out of range");
        }

        return new byte[length];
    }

    public static void WriteError(FrameBuilder frame, EngineException error)
    {
        frame.U8((byte)error.Code);
        frame.String(error.Message);
        frame.String(error.Param ?? string.Empty);
    }

    /// <summary>A little-endian cursor over a frame's payload (after its type byte).</summary>
    public ref struct Cursor(ReadOnlySpan<byte> payload)
    {
        private readonly ReadOnlySpan<byte> _payload = payload;
        private int _at = 1;

        public readonly bool AtEnd => _at >= _payload.Length;

        public byte U8() => _payload[_at++];

        public int I32()
        {
            var v = BinaryPrimitives.ReadInt32LittleEndian(_payload[_at..]);
            _at += 4;
            return v;
        }

        public long I64()
        {
            var v = BinaryPrimitives.ReadInt64LittleEndian(_payload[_at..]);
            _at += 8;
            return v;
        }

        public float F32()
        {
            var v = BinaryPrimitives.ReadSingleLittleEndian(_payload[_at..]);
            _at += 4;
            return v;
        }

        public double F64()
        {
            var v = BinaryPrimitives.ReadDoubleLittleEndian(_payload[_at..]);
            _at += 8;
            return v;
        }

        public string String()
        {
            var n = I32();
            var s = Encoding.UTF8.GetString(_payload.Slice(_at, n));
            _at += n;
            return s;
        }

        public ReadOnlySpan<byte> Rest()
        {
            var rest = _payload[_at..];
            _at = _payload.Length;
            return rest;
        }

        public EngineException Error()
        {
            var code = (EngineErrorCode)U8();
            var message = String();
            var param = String();
            return new EngineException(code, message, param.Length == 0 ? null : param);
        }
    }

    /// <summary>Writes one token entry of a step frame.</summary>
    public static void WriteToken(FrameBuilder frame, long id, in GeneratedToken token)
    {
        frame.U8((byte)EntryKind.Token);
        frame.I64(id);
        frame.I32(token.Token);
        frame.F32(token.Logprob);
        var top = token.TopLogprobs;
        frame.I32(top?.Length ?? 0);
        if (top is not null)
        {
            foreach (var t in top)
            {
                frame.I32(t.Token);
                frame.F32(t.Logprob);
            }
        }
    }

    public static GeneratedToken ReadToken(ref Cursor cursor)
    {
        var token = cursor.I32();
        var logprob = cursor.F32();
        var k = cursor.I32();
        TokenLogprob[]? top = null;
        if (k > 0)
        {
            top = new TokenLogprob[k];
            for (var i = 0; i < k; i++)
            {
                top[i] = new TokenLogprob(cursor.I32(), cursor.F32());
            }
        }

        return new GeneratedToken(token, logprob, top);
    }
}
