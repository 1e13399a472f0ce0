using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Abstractions;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Grammar;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Sampling;
using SovereignInference.Engine.Scheduling;
using static SovereignInference.Engine.Models.WorkerProtocol;

namespace SovereignInference.Engine.Models;

/// <summary>
/// The worker side (`sovereign worker --socket PATH`): connects to the server's socket, loads the one model the
/// server names, runs its scheduler, and answers frames until the server goes away (socket or stdin end of file),
/// then exits. Every scheduler step's tokens for all sequences leave in one <see cref="FrameType.Step"/> frame.
/// </summary>
public sealed partial class WorkerHost : IDisposable
{
    /// <summary>
    /// Test-only switch honoured only by the worker: <c>SOVEREIGN_WORKER_TEST_ABORT=ID=load|decode[,ID=…]</c> makes
    /// the worker of model ID call abort() before loading or before its first decode, as a native llama.cpp abort
    /// would. Used by the crash-containment tests.
    /// </summary>
    public const string TestAbortVariable = "SOVEREIGN_WORKER_TEST_ABORT";

    private readonly Socket _socket;
    private readonly Func<string?, IModelBackend> _backendFor;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Lock _sendLock = new();
    private readonly Lock _flushLock = new();
    private readonly FrameBuilder _sendFrame = new();
    private readonly FrameBuilder _stepFrame = new();
    private readonly ConcurrentDictionary<long, Live> _live = new();
    // Set by a cancel, waited on by the sweeper. No spinning before it sleeps: a SemaphoreSlim's wait spun (yielding
    // its core dozens of times) on every 100 ms tick, ~500 context switches a second per worker on a busy CPU, each
    // one a moment the decode threads lost.
    private readonly ManualResetEventSlim _cancelled = new(false, spinCount: 0);
    private InProcessModel? _model;
    private string? _abortAt;
    private volatile bool _done;

    private WorkerHost(Socket socket, Func<string?, IModelBackend> backendFor, ILoggerFactory loggerFactory)
    {
        _socket = socket;
        _backendFor = backendFor;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<WorkerHost>();
    }

    /// <summary>Runs a worker until the server closes the socket or <paramref name="parentGone"/> completes; returns the exit code.</summary>
    /// <param name="backendFor">Creates the backend for the native library folder the server names (null: the packaged one).</param>
    public static async Task<int> RunAsync(string socketPath, Func<string?, IModelBackend> backendFor, ILoggerFactory loggerFactory, Task parentGone)
    {
        ArgumentNullException.ThrowIfNull(parentGone);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath)).ConfigureAwait(false);
        using var host = new WorkerHost(socket, backendFor, loggerFactory);
        var serving = host.ServeAsync();
        await Task.WhenAny(serving, parentGone).ConfigureAwait(false);
        return serving.IsCompletedSuccessfully ? serving.Result : 0;
    }

    public void Dispose()
    {
        _done = true;
        _cancelled.Set();
        _model?.Dispose();
        _socket.Dispose();
        _cancelled.Dispose();
    }

    private async Task<int> ServeAsync()
    {
        await using var stream = new NetworkStream(_socket, ownsSocket: false);
        var header = new byte[4];
        var init = await ReadFrameAsync(stream, header, CancellationToken.None).ConfigureAwait(false);
        if (init is not { Type: FrameType.Init } first)
        {
            return 2;
        }

        var spec = JsonSerializer.Deserialize<WorkerSpec>(first.Payload.AsSpan(1, first.Length - 1), Json)!;
        _abortAt = TestAbortFor(spec.Id);
        if (_abortAt == "load")
        {
            Abort();
        }

        try
        {
            var loaded = _backendFor(spec.NativeLibDir).Load(spec.Load);
            _model = new InProcessModel(
                spec.Id,
                loaded,
                new SchedulerOptions
                {
                    QueueCapacity = spec.QueueCapacity,
                    PrefillChunkTokens = spec.PrefillChunk,
                    MaxStepFactor = spec.MaxStepFactor,
                    UserWeight = user => spec.UserPriorities.TryGetValue(user, out var w) ? w : 1,
                },
                spec.QueueCapacity,
                _loggerFactory);
        }
#pragma warning disable CA1031 // the reason goes back to the server, which marks the model failed
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Send(FrameType.LoadFailed, f => f.Bytes(Encoding.UTF8.GetBytes(ex.Message)));
            return 1;
        }

        _model.Scheduler.StepCompleted += Flush;
        Send(FrameType.Ready, f => f.Bytes(JsonSerializer.SerializeToUtf8Bytes(new WorkerReady(_model.SequenceContextSize, _model.EmbeddingMaxTokens, Environment.ProcessId), Json)));
        LogWorkerReady(_logger, spec.Id, Environment.ProcessId);
        var sweeper = new Thread(Sweep) { IsBackground = true, Name = "worker-sweep" };
        sweeper.Start();

        while (await ReadFrameAsync(stream, header, CancellationToken.None).ConfigureAwait(false) is { } frame)
        {
            switch (frame.Type)
            {
                case FrameType.Submit:
                    OnSubmit(frame.Payload.AsSpan(0, frame.Length));
                    break;
                case FrameType.Cancel:
                    OnCancel(frame.Payload.AsSpan(0, frame.Length));
                    break;
                case FrameType.Embed:
                    OnEmbed(frame.Payload);
                    break;
                default:
                    throw new InvalidDataException($"unexpected frame {frame.Type} from the server");
            }
        }

        return 0;
    }

    private void OnSubmit(ReadOnlySpan<byte> payload)
    {
        var cursor = new Cursor(payload);
        var id = cursor.I64();
        var maxNew = cursor.I32();
        var n = cursor.I32();
        var prompt = new int[n];
        for (var i = 0; i < n; i++)
        {
            prompt[i] = cursor.I32();
        }

        var options = JsonSerializer.Deserialize<SubmitOptions>(cursor.Rest(), Json)!;
        if (_abortAt == "decode")
        {
            Abort();
        }

        var request = new GenerationRequest
        {
            Model = "worker",
            MaxTokens = maxNew,
            IgnoreEos = options.IgnoreEos,
            Sampling = options.Sampling,
            User = options.User,
            Grammar = options.Gbnf is null ? null : new GrammarSpec(options.Gbnf, options.GrammarRoot ?? "root") { TriggerToken = options.GrammarTrigger },
        };
        var live = new Live(id);
        try
        {
            var sampler = new TokenSampler(options.Sampling, _model!.Loaded.Tokenizer.VocabSize, prompt);
            var sequence = new SequenceRequest(request, prompt, maxNew, sampler, _model.CreateConstraint(request.Grammar));
            live.Sequence = sequence;

            // Listed before the scheduler sees it, so the first step's flush already carries its tokens.
            _live[id] = live;
            try
            {
                _model.Scheduler.Enqueue(sequence);
            }
            catch
            {
                _live.TryRemove(id, out _);
                sequence.ReleaseConstraint();
                throw;
            }
        }
        catch (Exception ex) when (ex is EngineException or ArgumentException)
        {
            var error = ex as EngineException ?? new EngineException(EngineErrorCode.InvalidArgument, ex.Message, (ex as ArgumentException)?.ParamName);
            lock (_flushLock)
            {
                _stepFrame.Begin(FrameType.Step);
                _stepFrame.I32(1);
                _stepFrame.U8((byte)EntryKind.Final);
                _stepFrame.I64(id);
                _stepFrame.U8((byte)FinishReason.Error);
                _stepFrame.U8(1);
                WriteError(_stepFrame, error);
                SendRaw(_stepFrame.Finish());
            }
        }
    }

    private void OnCancel(ReadOnlySpan<byte> payload)
    {
        var cursor = new Cursor(payload);
        var id = cursor.I64();
        var keepCache = cursor.U8() != 0;
        if (_live.TryGetValue(id, out var live))
        {
            live.Sequence?.Cancel(keepCache);
            _cancelled.Set();
        }
    }

    private void OnEmbed(byte[] payload)
    {
        var cursor = new Cursor(payload);
        var id = cursor.I64();
        var count = cursor.I32();
        var inputs = new int[count][];
        for (var i = 0; i < count; i++)
        {
            var n = cursor.I32();
            inputs[i] = new int[n];
            for (var j = 0; j < n; j++)
            {
                inputs[i][j] = cursor.I32();
            }
        }

        _ = EmbedAsync(id, inputs);
    }

    private async Task EmbedAsync(long id, int[][] inputs)
    {
        try
        {
            var vectors = await _model!.EmbedAsync(inputs, CancellationToken.None).ConfigureAwait(false);
            Send(FrameType.EmbedResult, f =>
            {
                f.I64(id);
                f.I32(vectors.Length);
                f.I32(vectors.Length > 0 ? vectors[0].Length : 0);
                foreach (var v in vectors)
                {
                    f.Bytes(MemoryMarshal.AsBytes(v.AsSpan()));
                }
            });
        }
        catch (EngineException ex)
        {
            Send(FrameType.EmbedError, f =>
            {
                f.I64(id);
                WriteError(f, ex);
            });
        }
    }

    /// <summary>After each scheduler step (on its thread): that step's events of every sequence, in one frame.</summary>
    private void Flush(StepRecord step) => Drain(step);

    /// <summary>
    /// Tokens leave with each step (<see cref="Flush"/>); this thread only sends what ends outside a step: a cancelled
    /// sequence when nothing else runs (polled for 50 ms after each cancel), and as a safety net every 100 ms while
    /// sequences are live (a failed decode ends its batch without a step).
    /// </summary>
    private void Sweep()
    {
        while (!_done)
        {
            if (_cancelled.Wait(100))
            {
                _cancelled.Reset(); // one 50 ms poll answers every cancel so far
                for (var i = 0; i < 25 && !_done; i++)
                {
                    Thread.Sleep(2);
                    Drain(null);
                }
            }
            else
            {
                Drain(null);
            }
        }
    }

    private void Drain(StepRecord? step)
    {
        lock (_flushLock)
        {
            var frame = _stepFrame;
            frame.Begin(FrameType.Step);
            var countAt = frame.Position;
            frame.I32(0);
            var entries = 0;
            foreach (var (id, live) in _live)
            {
                var sequence = live.Sequence;
                if (sequence is null)
                {
                    continue;
                }

                if (!live.ReportedStart && sequence.StartedAt != 0)
                {
                    live.ReportedStart = true;
                    frame.U8((byte)EntryKind.Started);
                    frame.I64(id);
                    frame.I32(sequence.CachedPromptTokens);
                    entries++;
                }

                while (sequence.Events.TryRead(out var ev))
                {
                    entries++;
                    if (!ev.IsFinal)
                    {
                        WriteToken(frame, id, ev.Token);
                        continue;
                    }

                    frame.U8((byte)EntryKind.Final);
                    frame.I64(id);
                    frame.U8((byte)ev.Finish!.Value);
                    frame.U8(ev.Error is null ? (byte)0 : (byte)1);
                    if (ev.Error is { } error)
                    {
                        WriteError(frame, error);
                    }

                    _live.TryRemove(id, out _);
                }
            }

            if (step is { } s)
            {
                entries++;
                frame.U8((byte)EntryKind.StepStats);
                frame.I32(s.DecodeSequences);
                frame.I32(s.PrefillTokens);
                frame.I32(s.PrefillSequences);
                frame.I32(s.ActiveSequences);
                frame.F64(s.Elapsed.TotalSeconds);
                frame.F64(s.DecodeElapsed.TotalSeconds);
            }

            if (entries > 0)
            {
                frame.PatchI32(countAt, entries);
                SendRaw(frame.Finish());
            }
        }
    }

    private void Send(FrameType type, Action<FrameBuilder> write)
    {
        lock (_sendLock)
        {
            _sendFrame.Begin(type);
            write(_sendFrame);
            SendRaw(_sendFrame.Finish());
        }
    }

    private void SendRaw(ReadOnlySpan<byte> frame)
    {
        lock (_sendLock)
        {
            try
            {
                while (!frame.IsEmpty)
                {
                    var sent = _socket.Send(frame);
                    frame = frame[sent..];
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The server is gone: nothing to report to; the read loop ends and the worker exits.
                _done = true;
            }
        }
    }

    private static string? TestAbortFor(string id)
    {
        var setting = Environment.GetEnvironmentVariable(TestAbortVariable);
        if (string.IsNullOrEmpty(setting))
        {
            return null;
        }

        foreach (var part in setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq] == id)
            {
                return part[(eq + 1)..];
            }
        }

        return null;
    }

    private static void Abort() => NativeAbort();

    [LibraryImport("libc", EntryPoint = "abort")]
    private static partial void NativeAbort();

    [LoggerMessage(EventId = Observability.EngineEventIds.WorkerReady, Level = LogLevel.Information, Message = "Worker for model {Model} ready (pid {Pid})")]
    private static partial void LogWorkerReady(ILogger logger, string model, int pid);

    private sealed class Live(long id)
    {
        public long Id { get; } = id;

        public SequenceRequest? Sequence { get; set; }

        public bool ReportedStart { get; set; }
    }
}
