using System.Text;
using Grpc.Core;
using SovereignInference.Contracts.V1;
using SovereignInference.Engine.Chat;
using SovereignInference.Engine.Errors;
using SovereignInference.Engine.Hosting;
using SovereignInference.Engine.Requests;

namespace SovereignInference.Server.Grpc;

/// <summary>
/// sovereign.inference.v1.Inference: a thin adapter over <see cref="InferenceEngine.GenerateAsync"/>.
/// Engine failures surface as <see cref="EngineException"/> and become statuses in <see cref="EngineErrorInterceptor"/>.
/// </summary>
internal sealed class InferenceService(InferenceEngine engine, IEnumerable<IChatPromptFormatter> chatFormatters) : Inference.InferenceBase
{
    private readonly IChatPromptFormatter? _chatFormatter = chatFormatters.LastOrDefault();

    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateResponse> responseStream, ServerCallContext context)
    {
        var logprobs = request.Sampling?.HasLogprobs == true;
        await foreach (var update in engine.GenerateAsync(ProtoMapping.ToEngine(request), context.CancellationToken))
        {
            await responseStream.WriteAsync(ProtoMapping.ToGenerateResponse(update, logprobs), context.CancellationToken);
        }
    }

    public override async Task Chat(ChatRequest request, IServerStreamWriter<ChatResponse> responseStream, ServerCallContext context)
    {
        if (_chatFormatter is null)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "Chat is not available in this build: no chat template formatter is registered; use Generate with a formatted prompt"));
        }

        if (request.Messages.Count == 0)
        {
            throw EngineException.Invalid("messages", "messages must contain at least one message");
        }

        var model = engine.GetReadyModel(request.Model);
        var messages = request.Messages.Select(ProtoMapping.ToEngine).ToList();
        var tools = request.Tools.Select(ProtoMapping.ToEngine).ToList();
        var prompt = _chatFormatter.Format(model, messages, tools);
        var generation = ProtoMapping.WithSampling(request.Sampling) with
        {
            Model = model.Id,
            Prompt = prompt,
            AddBos = false,
            ParseSpecialTokens = true,
            User = request.User.Length > 0 ? request.User : null,
        };

        var logprobs = request.Sampling?.HasLogprobs == true;
        await foreach (var update in engine.GenerateAsync(generation, context.CancellationToken))
        {
            await responseStream.WriteAsync(ProtoMapping.ToChatResponse(update, logprobs), context.CancellationToken);
        }
    }

    public override Task<TokenizeResponse> Tokenize(TokenizeRequest request, ServerCallContext context)
    {
        var tokenizer = engine.GetReadyModel(request.Model).Tokenizer!;
        if (request.Text.Contains('\0', StringComparison.Ordinal))
        {
            throw EngineException.Invalid("text", "text contains a NUL character");
        }

        var ids = tokenizer.Tokenize(request.Text, request.HasAddBos ? request.AddBos : tokenizer.AddBosByDefault, !request.HasParseSpecial || request.ParseSpecial);
        var response = new TokenizeResponse { TokenIds = { ids } };
        if (request.WithPieces)
        {
            response.Pieces.AddRange(ids.Select(tokenizer.GetPieceText));
        }

        return Task.FromResult(response);
    }

    public override Task<DetokenizeResponse> Detokenize(DetokenizeRequest request, ServerCallContext context)
    {
        var tokenizer = engine.GetReadyModel(request.Model).Tokenizer!;
        var bytes = new List<byte>();
        for (var i = 0; i < request.TokenIds.Count; i++)
        {
            var id = request.TokenIds[i];
            if ((uint)id >= (uint)tokenizer.VocabSize)
            {
                throw EngineException.Invalid($"token_ids[{i}]", $"token_ids[{i}] = {id} is outside the vocabulary (0..{tokenizer.VocabSize - 1})");
            }

            bytes.AddRange(tokenizer.GetPieceBytes(id));
        }

        return Task.FromResult(new DetokenizeResponse { Text = Encoding.UTF8.GetString([.. bytes]) });
    }

    public override Task<EmbedResponse> Embed(EmbedRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "Embed is not available yet: the engine has no embedding call in this build"));

    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListModelsResponse { Models = { engine.Models.Select(ProtoMapping.ToProto) } });

    public override Task<Model> GetModel(GetModelRequest request, ServerCallContext context)
    {
        var entry = engine.Models.FirstOrDefault(m => string.Equals(m.Id, request.Id, StringComparison.Ordinal))
            ?? throw new EngineException(EngineErrorCode.ModelNotFound, $"The model '{request.Id}' does not exist", "id");
        return Task.FromResult(ProtoMapping.ToProto(entry));
    }
}
