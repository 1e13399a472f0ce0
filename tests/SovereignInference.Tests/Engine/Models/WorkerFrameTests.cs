using System.Buffers.Binary;
using SovereignInference.Engine.Models;
using static SovereignInference.Engine.Models.WorkerProtocol;

namespace SovereignInference.Tests.Engine.Models;

/// <summary>
/// The two frame readers (the blocking one the server's reader thread uses, the awaiting one of the worker's loop) read
/// the same bytes the same way, and refuse the same malformed lengths.
/// </summary>
public sealed class WorkerFrameTests
{
    [Fact]
    public async Task Blocking_and_awaiting_readers_read_the_same_frames_and_null_at_the_end()
    {
        var bytes = Frames();
        var header = new byte[4];

        using var forBlocking = new MemoryStream(bytes);
        var blocking = new List<(FrameType, byte[])>();
        while (ReadFrame(forBlocking, header) is { } frame)
        {
            blocking.Add((frame.Type, frame.Payload[..frame.Length]));
        }

        using var forAwaiting = new MemoryStream(bytes);
        var awaiting = new List<(FrameType, byte[])>();
        while (await ReadFrameAsync(forAwaiting, header, CancellationToken.None) is { } frame)
        {
            awaiting.Add((frame.Type, frame.Payload[..frame.Length]));
        }

        Assert.Equal([FrameType.Cancel, FrameType.Step], blocking.Select(f => f.Item1));
        Assert.Equal(blocking.Select(f => f.Item1), awaiting.Select(f => f.Item1));
        Assert.Equal(blocking.Select(f => Convert.ToHexString(f.Item2)), awaiting.Select(f => Convert.ToHexString(f.Item2)));
        Assert.Equal(42L, BinaryPrimitives.ReadInt64LittleEndian(blocking[0].Item2.AsSpan(1)));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData((uint)MaxFrameBytes + 1)]
    public async Task A_frame_length_out_of_range_is_refused_by_both_readers(uint length)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, length);
        Assert.Throws<InvalidDataException>(() => ReadFrame(new MemoryStream(bytes), new byte[4]));
        await Assert.ThrowsAsync<InvalidDataException>(() => ReadFrameAsync(new MemoryStream(bytes), new byte[4], CancellationToken.None));
    }

    [Fact]
    public void A_frame_cut_short_is_an_error_not_a_partial_frame()
    {
        var bytes = Frames();
        Assert.Throws<EndOfStreamException>(() =>
        {
            using var cut = new MemoryStream(bytes[..^3]);
            while (ReadFrame(cut, new byte[4]) is not null)
            {
            }
        });
    }

    private static byte[] Frames()
    {
        var builder = new FrameBuilder();
        using var stream = new MemoryStream();
        builder.Begin(FrameType.Cancel);
        builder.I64(42);
        builder.U8(1);
        stream.Write(builder.Finish());
        builder.Begin(FrameType.Step);
        builder.I32(0);
        stream.Write(builder.Finish());
        return stream.ToArray();
    }
}
