using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;
using Qarion.Functions;
using Qarion.Functions.Http;

namespace Qarion.Tests.Infrastructure;

/// <summary>
/// The real app container (built by <see cref="QarionApp.Configure"/>, as Program.cs does, never started),
/// over a database of its own, with a fake clock so timestamps are known to the test.
/// </summary>
public class AppFixture : IAsyncLifetime
{
    public const string BootstrapToken = "test-bootstrap-token-0123456789";
    /// <summary>A fixed AES-256 key for connector credentials (base64 of 32 bytes).</summary>
    public const string CredentialKey = "cWFyaW9uLXRlc3QtY3JlZGVudGlhbC1rZXktMzJieXQ=";

    private IHost? _host;

    public TestDatabase Database { get; private set; } = null!;
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero));
    public IServiceProvider Services => _host!.Services;
    public FunctionInvoker Invoker { get; private set; } = null!;

    /// <summary>Settings on top of the defaults (for example an OIDC authority).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public virtual async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(GetType().Name);
        var builder = FunctionsApplication.CreateBuilder([]);
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Qarion"] = Database.ConnectionString,
            ["AzureWebJobsStorage"] = TestEnvironment.Storage,
            ["Qarion:Auth:BootstrapToken"] = BootstrapToken,
            ["Qarion:Ingestion:CredentialKey"] = CredentialKey,
        };
        foreach (var (key, value) in Settings) settings[key] = value;
        QarionApp.Configure(builder);
        // Last, so these win over every earlier source, including the environment that scripts/services
        // exports (ConnectionStrings__Qarion points at the shared database, not this class's own).
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.RemoveAll<TimeProvider>();
        builder.Services.AddSingleton<TimeProvider>(Clock);
        _host = builder.Build();
        Invoker = new FunctionInvoker(_host.Services);
    }

    public virtual async Task DisposeAsync()
    {
        if (_host is IAsyncDisposable d) await d.DisposeAsync(); else _host?.Dispose();
        await Database.DisposeAsync();
    }

    /// <summary>A client without credentials.</summary>
    public ApiClient Anonymous() => new(Invoker, null);

    public ApiClient As(string apiKey) => new(Invoker, apiKey);

    /// <summary>A DbContext of a fresh scope, for arranging and asserting below the API.</summary>
    public async Task<T> WithDbAsync<T>(Func<QarionDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<QarionDbContext>());
    }

    private ApiClient? _admin;

    /// <summary>The superadmin created through the bootstrap endpoint (once per fixture).</summary>
    public async Task<ApiClient> AdminAsync()
    {
        if (_admin is not null) return _admin;
        var response = await Anonymous().PostAsync("/api/v1/bootstrap", new { token = BootstrapToken, email = "root@example.com", display_name = "Root" });
        if (response.Status != 201) throw new InvalidOperationException("Bootstrap failed: " + response);
        return _admin = As(response.Json.GetProperty("api_key").GetProperty("key").GetString()!);
    }

    /// <summary>Creates a user (as the superadmin) and an API key for them.</summary>
    public async Task<TestUser> CreateUserAsync(string name, bool superadmin = false)
    {
        var admin = await AdminAsync();
        var email = $"{name.ToLowerInvariant()}-{Guid.NewGuid():N}@example.com";
        var created = await admin.PostAsync("/api/v1/users", new { email, display_name = name, is_superadmin = superadmin });
        if (created.Status != 201) throw new InvalidOperationException("User creation failed: " + created);
        var userId = created.Json.GetProperty("id").GetGuid();
        var key = await WithDbAsync(async db =>
        {
            var scopeUser = new CurrentUser();
            scopeUser.SignIn(new AuthenticatedUser(userId, email, name, superadmin, AuthMethod.ApiKey));
            return await new ApiKeyService(db, scopeUser, Clock).CreateAsync(new CreateApiKeyRequest { Name = "test" }, default);
        });
        return new TestUser(userId, email, As(key.Key), key.Key);
    }

    /// <summary>Creates a space as the superadmin and adds members with roles.</summary>
    public async Task<string> CreateSpaceAsync(string? slug = null, params (TestUser User, string Role)[] members)
    {
        slug ??= "space-" + Guid.NewGuid().ToString("N")[..10];
        var admin = await AdminAsync();
        var created = await admin.PostAsync("/api/v1/spaces", new { slug, name = "Space " + slug });
        if (created.Status != 201) throw new InvalidOperationException("Space creation failed: " + created);
        foreach (var (user, role) in members)
        {
            var added = await admin.PostAsync($"/api/v1/spaces/{slug}/members", new { user_id = user.Id, role });
            if (added.Status != 201) throw new InvalidOperationException("Member add failed: " + added);
        }
        return slug;
    }
}

public sealed record TestUser(Guid Id, string Email, ApiClient Client, string ApiKey);

/// <summary>A small HTTP-shaped client over <see cref="FunctionInvoker"/>.</summary>
public sealed class ApiClient(FunctionInvoker invoker, string? apiKey)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public Task<ApiResponse> GetAsync(string path, IDictionary<string, string>? headers = null)
        => SendAsync("GET", path, null, null, headers);

    public Task<ApiResponse> DeleteAsync(string path, IDictionary<string, string>? headers = null)
        => SendAsync("DELETE", path, null, null, headers);

    public Task<ApiResponse> PostAsync(string path, object body, IDictionary<string, string>? headers = null)
        => SendAsync("POST", path, JsonSerializer.SerializeToUtf8Bytes(body, Json), "application/json", headers);

    public Task<ApiResponse> PatchAsync(string path, object body, IDictionary<string, string>? headers = null)
        => SendAsync("PATCH", path, JsonSerializer.SerializeToUtf8Bytes(body, Json), "application/json", headers);

    public Task<ApiResponse> SendRawAsync(string method, string path, string body, string contentType = "application/json", IDictionary<string, string>? headers = null)
        => SendAsync(method, path, Encoding.UTF8.GetBytes(body), contentType, headers);

    public Task<ApiResponse> SendAsync(string method, string path, byte[]? body, string? contentType, IDictionary<string, string>? headers)
    {
        var all = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (apiKey is not null) all["Authorization"] = "Bearer " + apiKey;
        if (headers is not null) foreach (var (k, v) in headers) all[k] = v;
        return invoker.SendAsync(method, path, body, contentType, all);
    }
}
