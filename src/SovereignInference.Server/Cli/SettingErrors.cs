using System.CommandLine;
using SovereignInference.Engine.Errors;
using SovereignInference.Server.Hosting;

namespace SovereignInference.Server.Cli;

/// <summary>Which exceptions are the operator's bad settings (message alone, exit code 2) rather than defects.</summary>
internal static class SettingErrors
{
    /// <summary>
    /// A configuration the server refuses (<see cref="ConfigurationException"/>) or a setting the engine refuses
    /// (<see cref="SettingException"/>). A plain <see cref="ArgumentException"/> is not: it comes from a defect and keeps
    /// its stack trace.
    /// </summary>
    public static bool IsSettingError(Exception e) => e is ConfigurationException or SettingException;

    /// <summary>
    /// Invokes the parsed command line as the executable does: a bad setting prints "sovereign: " and its message alone
    /// to standard error and gives exit code 2; anything else propagates with its stack trace.
    /// </summary>
    public static async Task<int> InvokeAsync(ParseResult parsed)
    {
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsSettingError(e))
        {
            await Console.Error.WriteLineAsync($"sovereign: {e.Message}");
            return 2;
        }
    }

    /// <summary>
    /// Runs work whose every argument came from the operator's command line (a generator given a preset, a shape, a
    /// tokenizer file), so that the generator's refusal (an <see cref="ArgumentException"/>, or an
    /// <see cref="InvalidDataException"/> for a file that is not what it claims) reads as a bad setting.
    /// </summary>
    public static T FromOperatorInput<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException)
        {
            throw new ConfigurationException(e.Message);
        }
    }
}
