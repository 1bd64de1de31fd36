using System.Text.Json;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Ingestion;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Ingestion;

/// <summary>
/// The app container plus a Durable Task in-process engine running the real sync orchestration and
/// activities (registered by <see cref="SyncOrchestration.Register"/>, against this fixture's services), whose
/// client is what <c>[DurableClient]</c> parameters receive.
/// </summary>
public class IngestionFixture : AppFixture
{
    private DurableTaskTestHost? _durable;

    public DurableTaskClient Durable => _durable!.Client;

    /// <summary>Called before (false) and after (true) every activity; a test may throw from it to inject a failure.</summary>
    public Func<string, bool, Task>? ActivityHook { get; set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _durable = await StartDurableAsync(registry => SyncOrchestration.Register(registry, Services, (name, after) => ActivityHook?.Invoke(name, after) ?? Task.CompletedTask));
        Invoker.Durable = _durable.Client;
    }

    /// <summary>
    /// Starts the in-process engine on a port the OS just handed out (its own default picks one at random,
    /// which collided with other test runs on this machine), retrying if another process takes it first.
    /// </summary>
    public static async Task<DurableTaskTestHost> StartDurableAsync(Action<Microsoft.DurableTask.DurableTaskRegistry> register)
    {
        for (var attempt = 1; ; attempt++)
        {
            var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            probe.Start();
            var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            try
            {
                // The engine logs every gRPC call at Information; tests read outcomes, not that stream.
                return await DurableTaskTestHost.StartAsync(register, new DurableTaskTestHostOptions
                {
                    Port = port, LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
                });
            }
            catch (IOException) when (attempt < 5)
            {
            }
        }
    }

    public override async Task DisposeAsync()
    {
        if (_durable is not null) await _durable.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>Creates a connector through the API (asserting 201) and returns its JSON.</summary>
    public static async Task<JsonElement> CreateConnectorAsync(ApiClient client, string space, object body)
    {
        var response = await client.PostAsync($"/api/v1/spaces/{space}/connectors", body);
        Assert.True(response.Status == 201, response.ToString());
        return response.Json.Clone();
    }

    /// <summary>A postgresql connector on <paramref name="connectionString"/>'s database, with its credentials set.</summary>
    public static async Task<Guid> CreatePostgresConnectorAsync(ApiClient client, string space, string connectionString, object? extra = null, string name = "warehouse")
    {
        var cs = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var body = new Dictionary<string, object?>
        {
            ["name"] = name, ["platform"] = "postgresql",
            ["config"] = new { host = cs.Host, port = cs.Port, database = cs.Database, ssl_mode = "disable" },
        };
        if (extra is not null) foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        var id = (await CreateConnectorAsync(client, space, body)).Id();
        var set = await client.PutAsync($"/api/v1/spaces/{space}/connectors/{id}/credentials", new { username = cs.Username, password = cs.Password });
        Assert.True(set.Status == 200, set.ToString());
        return id;
    }

    /// <summary>Starts a sync over the API, waits for its orchestration and returns the finished job.</summary>
    public async Task<JsonElement> SyncAsync(ApiClient client, string space, Guid connectorId)
    {
        var started = await client.PostAsync($"/api/v1/spaces/{space}/connectors/{connectorId}/sync", new { });
        Assert.True(started.Status == 202, started.ToString());
        var jobId = started.Json.GetProperty("job_id").GetGuid();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Durable.WaitForInstanceCompletionAsync(SyncOrchestration.InstanceId(connectorId), timeout.Token);
        var job = await client.GetAsync(started.Header("Location")!);
        Assert.True(job.Status == 200, job.ToString());
        Assert.Equal(jobId, job.Json.GetProperty("id").GetGuid());
        return job.Json.Clone();
    }

    /// <summary>Merges a hand-made snapshot as a job of <paramref name="connectorId"/> with the connector's strategy (below the API).</summary>
    public async Task<SyncJobResponse> MergeSnapshotAsync(Guid connectorId, CatalogSnapshot snapshot)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Qarion.Core.Persistence.QarionDbContext>();
        var connector = await db.Connectors.AsNoTracking().SingleAsync(c => c.Id == connectorId);
        var job = new SyncJob
        {
            Id = Guid.CreateVersion7(), SpaceId = connector.SpaceId, ConnectorId = connectorId, Status = SyncStatus.Running,
            Trigger = SyncTrigger.Manual, MergeStrategy = connector.MergeStrategy,
        };
        db.SyncJobs.Add(job);
        await db.SaveChangesAsync();
        var runner = scope.ServiceProvider.GetRequiredService<SyncRunner>();
        await runner.StageAsync(job.Id, "*", snapshot, default);
        return await runner.MergeAsync(job.Id, default);
    }
}
