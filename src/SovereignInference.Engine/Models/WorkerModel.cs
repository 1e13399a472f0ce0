using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;
using static SovereignInference.Engine.Models.WorkerProtocol;

namespace SovereignInference.Engine.Models;

/// <summary>
/// A model served by its own worker process (`sovereign worker`), seen from the server: requests go out as
/// Submit/Cancel frames, each step's tokens come back in one frame and are written to the requests' channels, so
/// the engine reads them exactly as from an in-process scheduler. When the worker dies every sequence it held ends at
/// once with "model worker exited: …" and <see cref="Exited"/> completes.
/// </summary>
internal sealed partial class WorkerModel : IModelInstance
{
    private readonly Process _process;
    private readonly Socket _socket;
    private readonly string _socketPath;
    private readonly string _id;
    private readonly ILogger _logger;
    private readonly Lock _sendLock = new();
    private readonly FrameBuilder _frame = new();
    private readonly ConcurrentDictionary<long, SequenceRequest> _live = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<float[][]>> _embeds = new();
    private readonly TaskCompletionSource<string> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _lastOutput = new();
    private long _nextId;
    private volatile bool _disposed;

    private WorkerModel(string id, Process process, Socket socket, string socketPath, WorkerReady ready, ILogger logger)
    {
        _id = id;
        _process = process;
        _socket = socket;
        _socketPath = socketPath;
        _logger = logger;
        SequenceContextSize = ready.SequenceContextSize;
        EmbeddingMaxTokens = ready.EmbeddingMaxTokens;
        Pid = process.Id;
    }

    public int SequenceContextSize { get; }

    public int? Pid { get; }

    public ModelScheduler? Scheduler => null;

    public int ActiveSequences => _live.Count;

    public int QueuedRequests => 0;

    public Task<string> Exited => _exited.Task;

    public int EmbeddingMaxTokens { get; }

    /// <summary>Raised on the reader thread for each step the worker reports (metrics).</summary>
    public event Action<StepRecord>? StepCompleted;

    /// <summary>
    /// Starts a worker, sends it <paramref name="spec"/> and waits until it has loaded the model. A worker that
    /// fails or dies while loading throws <see cref="EngineException"/> (ModelNotReady) with the reason.
    /// </summary>
    public static async Task<WorkerModel> StartAsync(WorkerLaunch launch, WorkerSpec spec, ILogger logger, CancellationToken cancellationToken)
    {
        var socketPath = Path.Combine(Path.GetTempPath(), $"sovereign-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        var info = new ProcessStartInfo(launch.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        WorkerLaunch.ApplyNativeDefaults(info.Environment);
        foreach (var arg in launch.Arguments)
        {
            info.ArgumentList.Add(arg);
        }

        info.ArgumentList.Add("worker");
        info.ArgumentList.Add("--socket");
        info.ArgumentList.Add(socketPath);
        var process = Process.Start(info) ?? throw new EngineException(EngineErrorCode.ModelNotReady, $"could not start a worker for model '{spec.Id}'", "model");
        var output = new Queue<string>();
        void OnLine(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.Enqueue(e.Data);
                if (output.Count > 20)
                {
                    output.Dequeue();
                }
            }

            LogWorkerOutput(logger, spec.Id, process.Id, e.Data);
        }

        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        Socket? socket = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(120));
            var accept = listener.AcceptAsync(timeout.Token).AsTask();
            var exited = process.WaitForExitAsync(timeout.Token);
            if (await Task.WhenAny(accept, exited).ConfigureAwait(false) != accept)
            {
                await exited.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw new EngineException(EngineErrorCode.ModelNotReady, LoadFailure(spec.Id, process, output, "before connecting"), "model");
            }

            socket = await accept.ConfigureAwait(false);
            var stream = new NetworkStream(socket, ownsSocket: false);
            var frame = new FrameBuilder();
            frame.Begin(FrameType.Init);
            frame.Bytes(JsonSerializer.SerializeToUtf8Bytes(spec, Json));
            socket.Send(frame.Finish());
            var header = new byte[4];
            (FrameType Type, byte[] Payload, int Length)? reply;
            try
            {
                reply = await ReadFrameAsync(stream, header, timeout.Token).ConfigureAwait(false);
            }
            catch (IOException)
            {
                reply = null;
            }

            if (reply is not { } r)
            {
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw new EngineException(EngineErrorCode.ModelNotReady, LoadFailure(spec.Id, process, output, "while loading"), "model");
            }

            if (r.Type == FrameType.LoadFailed)
            {
                throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{spec.Id}' failed to load: {Encoding.UTF8.GetString(r.Payload, 1, r.Length - 1)}", "model");
            }

            var ready = JsonSerializer.Deserialize<WorkerReady>(r.Payload.AsSpan(1, r.Length - 1), Json)!;
            var model = new WorkerModel(spec.Id, process, socket, socketPath, ready, logger);
            lock (output)
            {
                foreach (var line in output)
                {
                    model._lastOutput.Enqueue(line);
                }
            }

            process.OutputDataReceived += model.Remember;
            process.ErrorDataReceived += model.Remember;
            var reader = new Thread(() => model.ReadLoop(stream)) { IsBackground = true, Name = $"worker-{spec.Id}" };
            reader.Start();
            socket = null;
            return model;
        }
        catch
        {
            socket?.Dispose();
            Kill(process);
            process.Dispose();
            TryDelete(socketPath);
            throw;
        }
    }

    public SequenceRequest Start(GenerationRequest request, int[] prompt, int maxNewTokens, TokenSampler sampler)
    {
        if (_exited.Task.IsCompleted || _disposed)
        {
            throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{_id}' is not loaded: {(_exited.Task.IsCompleted ? _exited.Task.Result : "unloading")}", "model");
        }

        var id = Interlocked.Increment(ref _nextId);
        var sequence = new SequenceRequest(request, prompt, maxNewTokens, sampler);
        sequence.AttachWake(() => SendCancel(id, sequence));
        _live[id] = sequence;
        var options = new SubmitOptions(
            request.User,
            request.IgnoreEos,
            request.Sampling with { Seed = sampler.Seed },
            request.Grammar?.Gbnf,
            request.Grammar?.Root,
            request.Grammar?.TriggerToken);
        var json = JsonSerializer.SerializeToUtf8Bytes(options, Json);
        lock (_sendLock)
        {
            _frame.Begin(FrameType.Submit);
            _frame.I64(id);
            _frame.I32(maxNewTokens);
            _frame.I32(prompt.Length);
            _frame.Bytes(MemoryMarshal.AsBytes(prompt.AsSpan()));
            _frame.Bytes(json);
            SendLocked();
        }

        if (_exited.Task.IsCompleted && _live.TryRemove(id, out _))
        {
            throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{_id}' is not loaded: {_exited.Task.Result}", "model");
        }

        return sequence;
    }

    public async Task<float[][]> EmbedAsync(int[][] inputs, CancellationToken cancellationToken)
    {
        if (EmbeddingMaxTokens == 0)
        {
            throw EngineException.Invalid("model", $"The model '{_id}' is not configured for embeddings");
        }

        var id = Interlocked.Increment(ref _nextId);
        var result = new TaskCompletionSource<float[][]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _embeds[id] = result;
        lock (_sendLock)
        {
            _frame.Begin(FrameType.Embed);
            _frame.I64(id);
            _frame.I32(inputs.Length);
            foreach (var input in inputs)
            {
                _frame.I32(input.Length);
                _frame.Bytes(MemoryMarshal.AsBytes(input.AsSpan()));
            }

            SendLocked();
        }

        if (_exited.Task.IsCompleted && _embeds.TryRemove(id, out _))
        {
            throw new EngineException(EngineErrorCode.ModelNotReady, $"The model '{_id}' is not loaded: {_exited.Task.Result}", "model");
        }

        return await result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the worker: closes its socket and stdin (it exits on end of file), then kills it if it lingers.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _socket.Shutdown(SocketShutdown.Both);
        _socket.Dispose();
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
        }

        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            Kill(_process);
            _process.WaitForExit(TimeSpan.FromSeconds(5));
        }

        _process.Dispose();
        TryDelete(_socketPath);
        Fail("the model was unloaded");
    }

    /// <summary>"signal 9", "exit code 1".</summary>
    internal static string DescribeExit(Process process)
    {
        if (!process.HasExited)
        {
            return "connection lost";
        }

        var code = process.ExitCode;
        return code > 128 && code < 128 + 65 ? $"signal {code - 128}" : $"exit code {code}";
    }

    private static string LoadFailure(string id, Process process, Queue<string> output, string when)
    {
        string tail;
        lock (output)
        {
            tail = string.Join(" | ", output.TakeLast(3));
        }

        return $"The model '{id}' failed to load: model worker exited: {DescribeExit(process)} {when}{(tail.Length > 0 ? $" (last output: {tail})" : string.Empty)}";
    }

    private void Remember(object? sender, DataReceivedEventArgs e)
    {
        if (e.Data is null)
        {
            return;
        }

        lock (_lastOutput)
        {
            _lastOutput.Enqueue(e.Data);
            if (_lastOutput.Count > 20)
            {
                _lastOutput.Dequeue();
            }
        }
    }

    private void SendCancel(long id, SequenceRequest sequence)
    {
        lock (_sendLock)
        {
            _frame.Begin(FrameType.Cancel);
            _frame.I64(id);
            _frame.U8(sequence.FreeCacheOnCancel ? (byte)0 : (byte)1);
            SendLocked();
        }
    }

    private void SendLocked()
    {
        var frame = _frame.Finish();
        try
        {
            while (!frame.IsEmpty)
            {
                frame = frame[_socket.Send(frame)..];
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The read loop notices the dead worker and fails every sequence.
        }
    }

    private void ReadLoop(NetworkStream stream)
    {
        var header = new byte[4];
        try
        {
            while (ReadFrame(stream, header) is { } frame)
            {
                switch (frame.Type)
                {
                    case FrameType.Step:
                        OnStep(frame.Payload.AsSpan(0, frame.Length));
                        break;
                    case FrameType.EmbedResult:
                        OnEmbedResult(frame.Payload.AsSpan(0, frame.Length));
                        break;
                    case FrameType.EmbedError:
                        OnEmbedError(frame.Payload.AsSpan(0, frame.Length));
                        break;
                    default:
                        throw new InvalidDataException($"unexpected frame {frame.Type} from the worker");
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidDataException)
        {
        }
        finally
        {
            stream.Dispose();
        }

        if (_disposed)
        {
            return;
        }

        _process.WaitForExit(TimeSpan.FromSeconds(5));
        var reason = $"model worker exited: {DescribeExit(_process)}";
        string tail;
        lock (_lastOutput)
        {
            tail = string.Join(" | ", _lastOutput.TakeLast(2));
        }

        LogWorkerExited(_logger, _id, Pid ?? 0, reason, tail);
        Fail(reason);
        _exited.TrySetResult(reason);
    }

    private void Fail(string reason)
    {
        foreach (var id in _live.Keys)
        {
            if (_live.TryRemove(id, out var sequence))
            {
                sequence.Writer.TryWrite(SequenceEvent.Finished(FinishReason.Error, new EngineException(EngineErrorCode.ModelNotReady, reason, "model")));
                sequence.Writer.TryComplete();
            }
        }

        foreach (var id in _embeds.Keys)
        {
            if (_embeds.TryRemove(id, out var embed))
            {
                embed.TrySetException(new EngineException(EngineErrorCode.ModelNotReady, reason, "model"));
            }
        }
    }

    private void OnStep(ReadOnlySpan<byte> payload)
    {
        var cursor = new Cursor(payload);
        var count = cursor.I32();
        for (var i = 0; i < count; i++)
        {
            var kind = (EntryKind)cursor.U8();
            if (kind == EntryKind.StepStats)
            {
                var record = new StepRecord(0, cursor.I32(), cursor.I32(), cursor.I32(), cursor.I32(), TimeSpan.FromSeconds(cursor.F64()), TimeSpan.FromSeconds(cursor.F64()));
                StepCompleted?.Invoke(record);
                continue;
            }

            var id = cursor.I64();
            _live.TryGetValue(id, out var sequence);
            switch (kind)
            {
                case EntryKind.Started:
                    var cached = cursor.I32();
                    if (sequence is not null)
                    {
                        sequence.CachedPromptTokens = cached;
                        sequence.StartedAt = Stopwatch.GetTimestamp();
                    }

                    break;
                case EntryKind.Token:
                    var token = ReadToken(ref cursor);
                    if (sequence is not null)
                    {
                        if (sequence.FirstTokenAt == 0)
                        {
                            sequence.FirstTokenAt = Stopwatch.GetTimestamp();
                        }

                        sequence.GeneratedTokens++;
                        sequence.Writer.TryWrite(SequenceEvent.ForToken(token));
                    }

                    break;
                case EntryKind.Final:
                    var finish = (FinishReason)cursor.U8();
                    var error = cursor.U8() != 0 ? cursor.Error() : null;
                    if (sequence is not null && _live.TryRemove(id, out _))
                    {
                        if (sequence.StartedAt == 0)
                        {
                            sequence.StartedAt = Stopwatch.GetTimestamp();
                        }

                        sequence.Writer.TryWrite(SequenceEvent.Finished(finish, error));
                        sequence.Writer.TryComplete();
                    }

                    break;
                default:
                    throw new InvalidDataException($"unknown step entry {kind}");
            }
        }
    }

    private void OnEmbedResult(ReadOnlySpan<byte> payload)
    {
        var cursor = new Cursor(payload);
        var id = cursor.I64();
        var count = cursor.I32();
        var dims = cursor.I32();
        var rest = cursor.Rest();
        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            vectors[i] = MemoryMarshal.Cast<byte, float>(rest.Slice(i * dims * 4, dims * 4)).ToArray();
        }

        if (_embeds.TryRemove(id, out var result))
        {
            result.TrySetResult(vectors);
        }
    }

    private void OnEmbedError(ReadOnlySpan<byte> payload)
    {
        var cursor = new Cursor(payload);
        var id = cursor.I64();
        var error = cursor.Error();
        if (_embeds.TryRemove(id, out var result))
        {
            result.TrySetException(error);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [LoggerMessage(EventId = Observability.EngineEventIds.WorkerOutput, Level = LogLevel.Debug, Message = "Worker {Model} (pid {Pid}): {Line}")]
    private static partial void LogWorkerOutput(ILogger logger, string model, int pid, string line);

    [LoggerMessage(EventId = Observability.EngineEventIds.WorkerExited, Level = LogLevel.Error, Message = "Worker of model {Model} (pid {Pid}) died: {Reason}; last output: {Output}")]
    private static partial void LogWorkerExited(ILogger logger, string model, int pid, string reason, string output);
}
