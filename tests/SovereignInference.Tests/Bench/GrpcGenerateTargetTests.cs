using SovereignInference.Bench.Targets;

namespace SovereignInference.Tests.Bench;

/// <summary>The gRPC target's request (the real server is in <see cref="BenchCommandTests"/>).</summary>
public sealed class GrpcGenerateTargetTests
{
    [Fact]
    public async Task Requests_a_greedy_text_generation_of_fixed_length()
    {
        await using var target = new GrpcGenerateTarget(new Uri("http://127.0.0.1:1"), new TargetSettings("m", null, true, IgnoreEos: true, Seed: 5, TimeSpan.FromSeconds(5)));

        var request = target.Request(new BenchPrompt("hello loop", 8));

        Assert.Equal("m", request.Model);
        Assert.Equal("hello loop", request.Text);
        Assert.Equal(8, request.Sampling.MaxTokens);
        Assert.True(request.Sampling.IgnoreEos);
        Assert.Equal(0f, request.Sampling.Temperature);
        Assert.Equal(5UL, request.Sampling.Seed);
    }

    [Fact]
    public async Task A_refused_connection_is_counted_as_a_grpc_status_not_thrown()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var target = new GrpcGenerateTarget(new Uri($"http://127.0.0.1:{port}"), new TargetSettings("m", null, true, true, null, TimeSpan.FromSeconds(30)));

        var trace = await target.SendAsync(new BenchPrompt("p", 2), CancellationToken.None);

        Assert.Equal("grpc Unavailable", trace.FailureKey);
    }
}
