namespace SovereignInference.Engine.Models;

/// <summary>How to start a worker process: the executable and the arguments before <c>worker --socket PATH</c>.</summary>
/// <param name="FileName">The sovereign apphost, or dotnet.</param>
/// <param name="Arguments">Empty for the apphost; the server's dll for dotnet.</param>
public sealed record WorkerLaunch(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>
    /// The running executable when it is the app itself (<paramref name="appName"/>, e.g. the sovereign apphost);
    /// otherwise (tests run inside testhost, `dotnet sovereign.dll`) <c>dotnet APP.dll</c> from the app's folder.
    /// </summary>
    public static WorkerLaunch ForCurrentProcess(string appName)
    {
        var process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == appName)
        {
            return new WorkerLaunch(process, []);
        }

        var dll = Path.Combine(AppContext.BaseDirectory, appName + ".dll");
        var dotnet = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process : "dotnet";
        return new WorkerLaunch(dotnet, [dll]);
    }
}
