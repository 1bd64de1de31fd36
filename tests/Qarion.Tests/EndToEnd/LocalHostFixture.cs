using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.EndToEnd;

[CollectionDefinition(Name)]
public sealed class LocalHostTestGroup : ICollectionFixture<LocalHostFixture>
{
    public const string Name = "Local host (real worker)";
}

/// <summary>
/// One local host with the real worker per test run, over a fresh migrated database of its own and Azurite.
/// Its queues carry a prefix (this process id and a random part), so neither other test classes (which use
/// <c>quality-checks</c> queues of their own) nor parallel runs steal its messages: the host reads
/// <c>&lt;prefix&gt;quality-checks</c> and the worker sends there through <c>Qarion:Quality:QueueName</c>.
/// </summary>
public sealed class LocalHostFixture : IAsyncLifetime
{
    public string QueuePrefix { get; } = $"e2e{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}-";
    public TestDatabase Database { get; private set; } = null!;
    public LocalHostProcess Host { get; private set; } = null!;
    public HttpClient Anonymous { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public string AdminKey { get; private set; } = "";

    public string QualityQueue => QueuePrefix + "quality-checks";

    public static QueueClient Queue(string name) => new(TestEnvironment.Storage, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    public Dictionary<string, string> Settings => new()
    {
        ["ConnectionStrings__Qarion"] = Database.ConnectionString,
        ["AzureWebJobsStorage"] = TestEnvironment.Storage,
        ["Qarion__Auth__BootstrapToken"] = AppFixture.BootstrapToken,
        ["Qarion__Ingestion__CredentialKey"] = AppFixture.CredentialKey,
        ["Qarion__Quality__QueueName"] = QualityQueue,
    };

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync("localhost");
        Host = await LocalHostProcess.StartAsync(Settings, QueuePrefix);
        Anonymous = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var bootstrap = await Anonymous.PostAsJsonAsync("/api/v1/bootstrap", new { token = AppFixture.BootstrapToken, email = "root@example.com", display_name = "Root" });
        var body = await bootstrap.Content.ReadFromJsonAsync<JsonElement>();
        if ((int)bootstrap.StatusCode != 201) throw new InvalidOperationException($"bootstrap: {(int)bootstrap.StatusCode} {body}\n{Host.Output}");
        AdminKey = body.GetProperty("api_key").GetProperty("key").GetString()!;
        Admin = WithKey(AdminKey);
    }

    public HttpClient WithKey(string key)
    {
        var client = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>The host's record of invocations (GET /admin/host/invocations).</summary>
    public async Task<List<JsonElement>> InvocationsAsync()
        => (await Anonymous.GetFromJsonAsync<List<JsonElement>>("/admin/host/invocations"))!;

    public async Task DisposeAsync()
    {
        Anonymous?.Dispose();
        Admin?.Dispose();
        if (Host is not null) await Host.DisposeAsync();
        foreach (var q in new[] { QualityQueue, QualityQueue + "-poison" }) await Queue(q).DeleteIfExistsAsync();
        if (Database is not null) await Database.DisposeAsync();
    }
}
