namespace SovereignInference.Engine.Observability;

/// <summary>
/// Every log event id of the engine, in one place (as YARP keeps Utilities/EventIds.cs), so ids are unique and a
/// log filter or alert can name them. Ranges: 1xxx model hosting, 2xxx scheduling and embedding. The server's ids
/// (3xxx and up) are in SovereignInference.Server.Observability.ServerEventIds; a test checks the two never overlap.
/// </summary>
public static class EngineEventIds
{
    public const int Backend = 1001;
    public const int MemoryPlan = 1002;
    public const int ModelReady = 1003;
    public const int ModelSkipped = 1004;
    public const int ChatDisabled = 1005;
    public const int ChatTemplateInferred = 1006;
    public const int DrainTimeout = 1010;
    public const int ObserverFailed = 1011;
    public const int WorkerReady = 1020;
    public const int WorkerOutput = 1021;
    public const int WorkerExited = 1022;
    public const int ModelUnloaded = 1023;
    public const int ModelEvicted = 1024;
    public const int PreloadUnknown = 1025;
    public const int CatalogChanged = 1026;
    public const int StateObserverFailed = 1027;
    public const int MemoryBudgets = 1028;
    public const int LoadRefused = 1029;
    public const int DecodeFailed = 2001;
    public const int GrammarFailed = 2002;
    public const int EmbeddingFailed = 2101;
}
