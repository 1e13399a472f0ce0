using System.Net;
using System.Text;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SovereignInference.Server.Security;
using SovereignInference.Tests.TestSupport;
using static SovereignInference.Tests.TestSupport.OperationsTestSupport;

namespace SovereignInference.Tests.Server.Security;

/// <summary>
/// Every HTTP route the server maps (read from its own endpoint table, so a route added later is covered) ×
/// no key / wrong key / right key × content types, including the gRPC ones that once skipped the key check.
/// </summary>
public sealed class AuthMatrixTests
{
    private static readonly string?[] ContentTypes =
    [
        null,
        "application/json",
        "application/grpc",
        "application/grpcfoo",
        "APPLICATION/GRPC-web",
        "application/grpc+proto",
        "text/plain",
        "application/x-www-form-urlencoded",
    ];

    [Fact]
    public async Task Every_route_but_health_needs_a_key_whatever_the_content_type()
    {
        // Bob's key is marked admin: only it passes the admin routes (AdminOnly metadata); Alice's gets 403 there.
        var settings = TwoKeys(("ApiKeys:1:Admin", "true"));
        settings["Embeddings:0"] = "scripted";
        await using var server = await ServerHarness.StartAsync(settings);
        var routes = HttpRoutes(server);
        Assert.Contains(routes, r => r.Path == "v1/completions");
        Assert.Contains(routes, r => r.Path == "metrics");
        Assert.Equal(["health/live", "health/ready"], routes.Where(r => r.Anonymous && !IsConsoleFile(r.Path)).Select(r => r.Path).Order().ToArray());
        Assert.Equal(["admin/audit", "admin/usage", "models/load", "models/unload"], routes.Where(r => r.Admin).Select(r => r.Path).Order().ToArray());

        // The browser console's static files (/ and /console/*) are open; the APIs the page calls are not.
        Assert.All(routes.Where(r => IsConsoleFile(r.Path)), r => Assert.True(r.Anonymous && r.Method == HttpMethod.Get, r.Path));
        Assert.Contains(routes, r => r.Path == "");

        var failures = new List<string>();
        foreach (var (method, path, anonymous, admin) in routes.Append((HttpMethod.Post, "no/such/route", false, false)).Append((HttpMethod.Post, "sovereign.inference.v1.Inference/Generate", false, false)))
        {
            foreach (var contentType in ContentTypes)
            {
                foreach (var (key, header) in new (string?, string)[] { (null, ""), ("sk-wrong", "Authorization"), (AliceKey, "Authorization"), ("sk-wrong", "x-api-key"), (AliceKey, "x-api-key"), (BobKey, "Authorization") })
                {
                    using var request = new HttpRequestMessage(method, path);
                    if (method == HttpMethod.Post)
                    {
                        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes("{}"));
                        if (contentType is not null)
                        {
                            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                        }
                    }
                    else if (contentType is not null)
                    {
                        request.Content = new ByteArrayContent([]);
                        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                    }

                    if (key is not null && header == "Authorization")
                    {
                        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
                    }
                    else if (key is not null)
                    {
                        request.Headers.Add(header, key);
                    }

                    using var response = await server.Http.SendAsync(request);
                    var body = await response.Content.ReadAsStringAsync();
                    var expectDenied = key != AliceKey && key != BobKey && !anonymous;
                    var label = $"{method} /{path} content-type '{contentType}' {header} '{key}': {(int)response.StatusCode} {body}";
                    if (expectDenied)
                    {
                        if (response.StatusCode != HttpStatusCode.Unauthorized || ErrorBodies.ErrorCode(body) is not ("invalid_api_key" or "authentication_error"))
                        {
                            failures.Add(label);
                        }
                    }
                    else if (admin && key == AliceKey)
                    {
                        if (response.StatusCode != HttpStatusCode.Forbidden || ErrorBodies.ErrorCode(body) != "insufficient_permissions")
                        {
                            failures.Add(label);
                        }
                    }
                    else if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden || (int)response.StatusCode >= 500)
                    {
                        failures.Add(label);
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.Empty(server.Logs.Errors);
    }

    [Fact]
    public async Task A_gRPC_path_on_the_HTTP_port_is_not_served_even_with_a_key()
    {
        await using var server = await ServerHarness.StartAsync(TwoKeys());
        using var request = new HttpRequestMessage(HttpMethod.Post, "sovereign.inference.v1.Inference/ListModels")
        {
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AliceKey);

        using var response = await server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>The server's HTTP routes (method, path with parameters filled in, whether it is open).</summary>
    private static List<(HttpMethod Method, string Path, bool Anonymous, bool Admin)> HttpRoutes(ServerHarness server)
    {
        var routes = new List<(HttpMethod, string, bool, bool)>();
        foreach (var endpoint in server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is not null || endpoint.RoutePattern.RawText is not { } raw || raw.Contains("unimplemented", StringComparison.Ordinal))
            {
                continue;
            }

            var path = string.Join('/', raw.Trim('/').Split('/').Select(segment => segment.StartsWith('{') ? "scripted" : segment));
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var admin = endpoint.Metadata.GetMetadata<AdminOnly>() is not null;
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                routes.Add((new HttpMethod(method), path, anonymous, admin));
            }
        }

        return routes;
    }

    private static bool IsConsoleFile(string path) => path.Length == 0 || path.StartsWith("console/", StringComparison.Ordinal);
}
