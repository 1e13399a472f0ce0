namespace SovereignInference.Tests.TestSupport;

/// <summary>Files of the checkout the tests read in place (vendored schemas, deployment manifests).</summary>
internal static class RepositoryFiles
{
    /// <summary>The repository root: the first folder above the test binaries that holds SovereignInference.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path under the root, from '/'-separated segments.</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SovereignInference.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
