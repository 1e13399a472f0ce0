namespace SovereignInference.Bench.Running;

/// <summary>Live progress of a run (a Spectre.Console progress bar in the CLI). Called from any thread.</summary>
internal interface IBenchProgress
{
    void LevelStarted(int concurrency, int requests);

    void RequestFinished(int concurrency, bool succeeded);

    void LevelFinished(int concurrency);
}
