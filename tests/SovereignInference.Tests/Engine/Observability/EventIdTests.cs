using System.Reflection;
using Microsoft.Extensions.Logging;
using SovereignInference.Engine.Observability;
using SovereignInference.Server.Observability;

namespace SovereignInference.Tests.Engine.Observability;

/// <summary>Every log message of the engine and the server has its own event id, taken from the two EventIds tables.</summary>
public sealed class EventIdTests
{
    [Fact]
    public void Every_logged_event_id_is_unique_and_named_in_an_event_id_table()
    {
        var assemblies = new[] { typeof(EngineEventIds).Assembly, typeof(ServerEventIds).Assembly };
        var logged = assemblies
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToList();
        Assert.True(logged.Count >= 20, $"found only {logged.Count} log messages");

        var duplicates = logged.GroupBy(x => x.Attribute!.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(x => x.Method))}").ToList();
        Assert.True(duplicates.Count == 0, string.Join(Environment.NewLine, duplicates));

        var named = new[] { typeof(EngineEventIds), typeof(ServerEventIds) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Select(f => (int)f.GetRawConstantValue()!)
            .ToList();
        Assert.Equal(named.Count, named.Distinct().Count());
        Assert.Equal(named.Order(), logged.Select(x => x.Attribute!.EventId).Order());
    }
}
