using System.Text;

namespace SovereignInference.Tests.Bench;

/// <summary>A read-only stream that returns exactly the given chunks, one per read, then end of stream.</summary>
internal sealed class ChunkedStream(params string[] chunks) : Stream
{
    private readonly Queue<byte[]> _chunks = new(chunks.Select(Encoding.UTF8.GetBytes));

    public int Reads { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Reads++;
        if (!_chunks.TryDequeue(out var chunk))
        {
            return ValueTask.FromResult(0);
        }

        if (chunk.Length > buffer.Length)
        {
            throw new InvalidOperationException("test chunk larger than the reader's buffer");
        }

        chunk.CopyTo(buffer);
        return ValueTask.FromResult(chunk.Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().Result;

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
