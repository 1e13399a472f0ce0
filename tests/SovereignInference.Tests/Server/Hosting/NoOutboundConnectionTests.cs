using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Net;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Hosting;

/// <summary>Nothing phones home: every socket connect of a full request cycle goes to loopback.</summary>
public sealed class NoOutboundConnectionTests
{
    [Fact]
    public async Task A_full_request_cycle_opens_no_connection_to_a_non_loopback_address()
    {
        using var listener = new ConnectListener();
        await using (var server = await ServerHarness.StartAsync(TwoKeys(), apiKey: AliceKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("health/ready")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("v1/models")).StatusCode);
            await RunAsync(server.Engine.GenerateAsync(Hello("alice")));
            await server.Http.GetStringAsync("metrics");
            await server.StopAsync();
        }

        var connects = listener.Addresses.ToList();
        // The test's own client connected to the server: the listener sees connects and reads their addresses.
        Assert.Contains(connects, a => a is not null && IPAddress.IsLoopback(a));
        Assert.All(connects, a => Assert.True(a is not null && IPAddress.IsLoopback(a), $"outbound connect to {a?.ToString() ?? "an unparsed address"}"));
    }

    /// <summary>Records System.Net.Sockets ConnectStart events ("InterNetwork:16:{port,port,a,b,c,d,...}").</summary>
    private sealed class ConnectListener : EventListener
    {
        public ConcurrentQueue<IPAddress?> Addresses { get; } = new();

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "System.Net.Sockets")
            {
                EnableEvents(eventSource, EventLevel.Informational);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName != "ConnectStart" || eventData.Payload is not { Count: > 0 } payload)
            {
                return;
            }

            var address = Parse(payload[0] as string ?? "");
            Addresses.Enqueue(address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address);
        }

        private static IPAddress? Parse(string socketAddress)
        {
            var open = socketAddress.IndexOf('{', StringComparison.Ordinal);
            var close = socketAddress.LastIndexOf('}');
            if (open < 0 || close < open)
            {
                return null;
            }

            var bytes = socketAddress[(open + 1)..close].Split(',').Select(b => byte.Parse(b.Trim(), CultureInfo.InvariantCulture)).ToArray();
            return socketAddress.StartsWith("InterNetworkV6:", StringComparison.Ordinal) ? new IPAddress(bytes.AsSpan(6, 16))
                : socketAddress.StartsWith("InterNetwork:", StringComparison.Ordinal) ? new IPAddress(bytes.AsSpan(2, 4))
                : socketAddress.StartsWith("Unix:", StringComparison.Ordinal) ? IPAddress.Loopback
                : null;
        }
    }
}
