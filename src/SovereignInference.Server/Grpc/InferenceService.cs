using System.Text;
using Grpc.Core;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Embedding;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Server.Security;

namespace SovereignInference.Server.Grpc;

/// <summary>
/// sovereign.inference.v1.Inference: a thin adapter over <see cref="InferenceEngine.GenerateAsync"/>,
/// <see cref="InferenceEngine.ChatAsync"/> (the same call as the HTTP chat endpoints) and
/// <see cref="InferenceEngine.EmbedAsync(EmbeddingRequest, CancellationToken)"/>.
/// Engine failures surface as <see cref="EngineException"/> and become statuses in <see cref="EngineErrorInterceptor"/>.
/// </summary>
internal sealed class InferenceService(InferenceEngine engine) : Inference.InferenceBase
{
    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context)
    {
        var logprobs = request.Sampling?.HasLogprobs == true;
        var generation = ProtoMapping.ToEngine(request) with { User = UserOf(context, request.User) };
        await foreach (var update in engine.GenerateAsync(generation, context.CancellationToken))
        {
            await responseStream.WriteAsync(ProtoMapping.ToGenerateResponse(update, logprobs), context.CancellationToken);
        }
    }

    public override async Task Chat(ChatRequest request, IServerStreamWriter<ChatResponse> responseStream, ServerCallContext context)
    {
        if (request.Messages.Count == 0)
        {
            throw EngineException.Invalid("messages", "messages must contain at least one message");
        }

        var messages = request.Messages.Select(ProtoMapping.ToEngine).ToList();
        var tools = request.Tools.Select(ProtoMapping.ToEngine).ToList();
        var grammar = ProtoMapping.ToGrammar(request.HasJsonObject && request.JsonObject, request.HasJsonSchema ? request.JsonSchema : null);
        var (toolChoice, function) = ProtoMapping.ToToolChoice(request.ToolChoice, request.ToolChoiceFunction, tools);
        var chat = new ChatGenerationRequest
        {
            Generation = ProtoMapping.WithSampling(request.Sampling) with
            {
                Model = request.Model,
                User = UserOf(context, request.User),
                Grammar = grammar,
            },
            Messages = messages,
            Tools = tools,
            ToolChoice = toolChoice,
            ForcedFunction = function,
            ReasoningEffort = request.ReasoningEffort.Length > 0 ? request.ReasoningEffort : null,
        };
        var logprobs = request.Sampling?.HasLogprobs == true;
        await foreach (var delta in engine.ChatAsync(chat, context.CancellationToken))
        {
            await responseStream.WriteAsync(ProtoMapping.ToChatResponse(delta, logprobs), context.CancellationToken);
        }
    }

    public override async Task<ApplyTemplateResponse> ApplyTemplate(ApplyTemplateRequest request, ServerCallContext context)
    {
        if (request.Messages.Count == 0)
        {
            throw EngineException.Invalid("messages", "messages must contain at least one message");
        }

        var model = await engine.GetModelAsync(request.Model, context.CancellationToken);
        var messages = request.Messages.Select(ProtoMapping.ToEngine).ToList();
        var tools = request.Tools.Select(ProtoMapping.ToEngine).ToList();
        var (toolChoice, function) = ProtoMapping.ToToolChoice(request.ToolChoice, request.ToolChoiceFunction, tools);
        var turn = ChatTurn.Prepare(model, messages, tools, toolChoice, function, request.ReasoningEffort.Length > 0 ? request.ReasoningEffort : null);
        return new ApplyTemplateResponse
        {
            Prompt = turn.Prompt.Text,
            Format = ChatFormatter.ChoiceOf(model).Describe(),
            TokenIds = { turn.PromptTokens },
        };
    }

    public override Task<TokenizeResponse> Tokenize(TokenizeRequest request, ServerCallContext context)
    {
        var result = engine.Tokenize(request.Model, request.Text, request.HasAddBos ? request.AddBos : null, !request.HasParseSpecial || request.ParseSpecial, request.WithPieces, "text");
        var response = new TokenizeResponse { TokenIds = { result.Ids } };
        if (result.Pieces is { } pieces)
        {
            response.Pieces.AddRange(pieces);
        }

        return Task.FromResult(response);
    }

    public override Task<DetokenizeResponse> Detokenize(DetokenizeRequest request, ServerCallContext context) =>
        Task.FromResult(new DetokenizeResponse { Text = engine.Detokenize(request.Model, [.. request.TokenIds.Select(id => (long)id)], "token_ids") });

    public override async Task<EmbedResponse> Embed(EmbedRequest request, ServerCallContext context)
    {
        if (request.HasNormalize && !request.Normalize)
        {
            throw EngineException.Invalid("normalize", "normalize = false is not available: vectors are always unit length");
        }

        if ((request.Inputs.Count > 0) == (request.TokenInputs.Count > 0))
        {
            throw EngineException.Invalid("inputs", "set exactly one of inputs (texts) and token_inputs, with at least one entry");
        }

        var result = await engine.EmbedAsync(
            new EmbeddingRequest
            {
                Model = request.Model,
                Texts = request.Inputs.Count > 0 ? request.Inputs : null,
                TokenInputs = request.TokenInputs.Count > 0 ? [.. request.TokenInputs.Select(t => (IReadOnlyList<int>)t.Ids)] : null,
                User = UserOf(context, string.Empty),
            },
            context.CancellationToken);
        var response = new EmbedResponse { Usage = new Usage { PromptTokens = result.PromptTokens, TotalTokens = result.PromptTokens } };
        response.Embeddings.AddRange(result.Vectors.Select(v => new Embedding { Values = { v } }));
        return response;
    }

    /// <summary>The authenticated key's name when keys are configured; otherwise the request's own user field.</summary>
    private static string? UserOf(ServerCallContext context, string claimed) =>
        RequestIdentity.UserFor(context.GetHttpContext(), claimed.Length > 0 ? claimed : null);

    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListModelsResponse
        {
            Models = { engine.Models.Select(ProtoMapping.ToProto) },
            Memory =
            {
                engine.Manager.MemoryDevices.Select(d => new MemoryAccount
                {
                    Device = d.Id,
                    Name = d.Name,
                    BudgetBytes = d.Budget,
                    InUseBytes = engine.Manager.InUseOn(d.Id),
                    FreeAtStartBytes = d.FreeAtStart,
                }),
            },
        });

    public override Task<Model> GetModel(GetModelRequest request, ServerCallContext context)
    {
        var entry = engine.Manager.Find(request.Id)
            ?? throw new EngineException(EngineErrorCode.ModelNotFound, $"The model '{request.Id}' does not exist", "id");
        return Task.FromResult(ProtoMapping.ToProto(entry));
    }

    public override async Task<Model> LoadModel(LoadModelRequest request, ServerCallContext context) =>
        ProtoMapping.ToProto(await engine.LoadModelAsync(request.Model, context.CancellationToken));

    public override Task<Model> UnloadModel(UnloadModelRequest request, ServerCallContext context) =>
        Task.FromResult(ProtoMapping.ToProto(engine.UnloadModel(request.Model)));

    public override async Task WatchModels(WatchModelsRequest request, IServerStreamWriter<ModelEvent> responseStream, ServerCallContext context)
    {
        var changes = System.Threading.Channels.Channel.CreateUnbounded<ModelEvent>();
        void OnChange(Engine.Models.ModelEntry entry) => changes.Writer.TryWrite(new ModelEvent
        {
            Model = ProtoMapping.ToProto(entry),
            Removed = engine.Manager.Find(entry.Id) is not { } current || !ReferenceEquals(current, entry),
        });

        engine.Manager.StateChanged += OnChange;
        try
        {
            foreach (var entry in engine.Models)
            {
                await responseStream.WriteAsync(new ModelEvent { Model = ProtoMapping.ToProto(entry) }, context.CancellationToken);
            }

            await foreach (var change in changes.Reader.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(change, context.CancellationToken);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            engine.Manager.StateChanged -= OnChange;
        }
    }
}
