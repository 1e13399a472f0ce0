using System.Diagnostics;
using System.Net;

namespace SovereignInference.Tests.TestSupport;

/// <summary>Waits for a `sovereign serve` child process to answer /health/ready with 200.</summary>
public static class ChildProcessReadiness
{
    /// <summary>
    /// Only a guard against a hung child: a start (JIT, llama.cpp load, SHA-256 of the model) on a busy 2-core
    /// machine shared with other builds has taken well over the 30 s and 90 s this used to allow. The wait ends
    /// early, and the test fails at once, when the process exits or has finished loading with no model serving.
    /// </summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(5);

    /// <summary>True once ready; false when the process exited, no model could be loaded, or the guard ran out.</summary>
    public static async Task<bool> WaitUntilReadyAsync(Process process, Uri baseAddress)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow + HangGuard;
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync("health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }

                using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                if (body.RootElement.TryGetProperty("status", out var status) && status.GetString() == "no model serving")
                {
                    return false;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        return false;
    }
}
