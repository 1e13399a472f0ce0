using System.Runtime.CompilerServices;
using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Models;
using SovereignInference.Engine.Output;
using SovereignInference.Engine.Requests;
using SovereignInference.Engine.Scheduling;

namespace SovereignInference.Engine.Hosting;

/// <summary>
/// One generation through the stages, in the order a request travels: Models (a lease on the model, loading it on
/// demand) → Admission (validate, tokenize, start the sequence on the model's scheduler) → Output (token events →
/// text updates) → the lease's release, which starts the model's keep-alive.
/// </summary>
internal sealed class GenerationPipeline(ModelManager manager, DrainGate gate)
{
    public async IAsyncEnumerable<GenerationUpdate> RunAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var entry = await manager.AcquireAsync(request.Model, cancellationToken).ConfigureAwait(false);
        TimeSpan? keepAlive = null;
        SequenceRequest sequence;
        try
        {
            keepAlive = RequestAdmission.ParseKeepAlive(request.KeepAlive);
            gate.ThrowIfDraining();
            sequence = RequestAdmission.Admit(request, entry);
        }
        catch
        {
            manager.Release(entry, keepAlive);
            throw;
        }

        try
        {
            await foreach (var update in SequenceOutput.ReadAsync(sequence, request, entry.Tokenizer!, cancellationToken))
            {
                yield return update;
            }
        }
        finally
        {
            manager.Release(entry, keepAlive);
        }
    }
}
