using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Persistence;
using Qarion.Core.Quality;
using Qarion.Functions.Quality;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Ingestion;

namespace Qarion.Tests.Quality;

/// <summary>
/// A space with two synced PostgreSQL connectors — Chinook (read-only) and a scratch "shop" database the tests
/// change — and a <c>quality-checks</c> queue of its own in Azurite, drained the way the Functions host would:
/// receive, invoke the queue function, delete on success.
/// </summary>
public class QualityFixture : IngestionFixture
{
    private static int _instances;
    private readonly string _queue = $"qc-{Environment.ProcessId}-{Interlocked.Increment(ref _instances)}-{Guid.NewGuid().ToString("N")[..8]}";

    public string Space { get; private set; } = "";
    public Guid SpaceId { get; private set; }
    public ApiClient Admin { get; private set; } = null!;
    public Guid Chinook { get; private set; }
    public Guid Shop { get; private set; }
    public ScratchDatabase ShopDatabase { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Qarion:Quality:QueueName"] = _queue };

    public QueueClient Queue => new(TestEnvironment.Storage, _queue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
    public QueueClient PoisonQueue => new(TestEnvironment.Storage, _queue + "-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Queue.CreateIfNotExistsAsync();
        await PoisonQueue.CreateIfNotExistsAsync();
        var admin = await CreateUserAsync("Quality admin");
        Admin = admin.Client;
        Space = await CreateSpaceAsync(null, (admin, "admin"));
        SpaceId = await WithDbAsync(db => db.Spaces.Where(s => s.Slug == Space).Select(s => s.Id).SingleAsync());
        Chinook = await CreatePostgresConnectorAsync(Admin, Space, TestEnvironment.ConnectionStringFor(await SourceDatabases.ChinookAsync()), name: "chinook");
        Assert.Equal("succeeded", (await SyncAsync(Admin, Space, Chinook)).Str("status"));
        ShopDatabase = await SourceDatabases.CreateScratchAsync();
        await ShopDatabase.ExecuteAsync("""
            CREATE SCHEMA shop;
            CREATE TABLE shop.orders (id integer PRIMARY KEY, email text, amount numeric, placed_at timestamptz);
            INSERT INTO shop.orders SELECT i, 'c' || i || '@example.com', i * 10, now() - i * interval '1 hour' FROM generate_series(1, 20) AS i;
            -- One table (so one product) per test that changes data or asserts a product's score.
            CREATE TABLE shop.alerting AS SELECT * FROM shop.orders;
            CREATE TABLE shop.feed AS SELECT * FROM shop.orders;
            CREATE TABLE shop.ledger AS SELECT * FROM shop.orders;
            CREATE TABLE shop.scheduled AS SELECT * FROM shop.orders;
            CREATE TABLE shop.rescored AS SELECT * FROM shop.orders;
            CREATE TABLE shop.pushed (id integer);
            CREATE TABLE shop.graded (id integer);
            """);
        Shop = await CreatePostgresConnectorAsync(Admin, Space, ShopDatabase.ConnectionString, name: "shop");
        Assert.Equal("succeeded", (await SyncAsync(Admin, Space, Shop)).Str("status"));
    }

    public override async Task DisposeAsync()
    {
        await Queue.DeleteIfExistsAsync();
        await PoisonQueue.DeleteIfExistsAsync();
        await ShopDatabase.DisposeAsync();
        await base.DisposeAsync();
    }

    public Task<Guid> ProductIdAsync(string slug)
        => WithDbAsync(db => db.Products.Where(p => p.SpaceId == SpaceId && p.Slug == slug).Select(p => p.Id).SingleAsync());

    /// <summary>Adds a check below the API (the definitions API has its own tests).</summary>
    public async Task<QualityCheck> AddCheckAsync(
        string slug, Guid connectorId, string[] products, CheckConfig config, Threshold? warning = null, Threshold? critical = null,
        CheckSeverity severity = CheckSeverity.Medium, string? schedule = null, DateTimeOffset? nextRunAt = null)
    {
        var productIds = new List<Guid>();
        foreach (var p in products) productIds.Add(await ProductIdAsync(p));
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
        var check = new QualityCheck
        {
            SpaceId = SpaceId, Slug = slug, Name = slug.Replace('-', ' '), CheckType = config.Type, Config = CheckConfigJson.Write(config),
            WarningThreshold = CheckConfigJson.Write(warning), CriticalThreshold = CheckConfigJson.Write(critical), Severity = severity,
            ConnectorId = CheckTypes.IsExternal(config.Type) ? null : connectorId, Schedule = schedule, NextRunAt = nextRunAt,
        };
        db.QualityChecks.Add(check);
        for (var i = 0; i < productIds.Count; i++) db.CheckProducts.Add(new CheckProduct { CheckId = check.Id, ProductId = productIds[i], Position = i });
        await db.SaveChangesAsync();
        return check;
    }

    /// <summary>Receives every visible message and runs it through the queue function; returns how many ran (and were deleted).</summary>
    public async Task<int> DrainAsync(bool deleteOnSuccess = true)
    {
        var ran = 0;
        while (true)
        {
            QueueMessage[] batch = (await Queue.ReceiveMessagesAsync(maxMessages: 32, visibilityTimeout: TimeSpan.FromSeconds(30))).Value;
            if (batch.Length == 0) return ran;
            foreach (var message in batch)
            {
                await DeliverAsync(message);
                if (deleteOnSuccess) await Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                ran++;
            }
        }
    }

    /// <summary>Invokes the queue function with the body and the trigger metadata the host sends.</summary>
    public async Task DeliverAsync(QueueMessage message)
    {
        await using var scope = Services.CreateAsyncScope();
        var metadata = new Dictionary<string, object?>
        {
            ["Id"] = message.MessageId, ["DequeueCount"] = message.DequeueCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PopReceipt"] = message.PopReceipt, ["InsertionTime"] = message.InsertedOn?.ToString("O"),
        };
        var context = new TestFunctionContext(scope.ServiceProvider, new TestFunctionDefinition("Quality_RunCheck", "Qarion.Functions.Quality.QualityQueueFunctions.RunCheck", "Qarion.Functions.dll"), metadata, default);
        await ActivatorUtilities.CreateInstance<QualityQueueFunctions>(scope.ServiceProvider).RunCheck(message.Body.ToString(), context, default);
    }

    public async Task DeliverPoisonAsync(QueueMessage message)
    {
        await using var scope = Services.CreateAsyncScope();
        await ActivatorUtilities.CreateInstance<QualityQueueFunctions>(scope.ServiceProvider).RunCheckPoison(message.Body.ToString(), default);
    }

    public async Task<int> RunSchedulerAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<CheckExecutor>().EnqueueDueAsync(default);
    }

    /// <summary>POST …/run, then drain the queue; returns the finished execution as the API shows it.</summary>
    public async Task<JsonElement> RunAsync(string check)
    {
        // Each run a second later: executions, alerts and events then have distinct, ordered times.
        Clock.Advance(TimeSpan.FromSeconds(1));
        var run = await Admin.PostAsync($"/api/v1/spaces/{Space}/checks/{check}/run", new { });
        Assert.True(run.Status == 202, run.ToString());
        await DrainAsync();
        var execution = await Admin.GetAsync(run.Json.Str("status_url"));
        Assert.True(execution.Status == 200, execution.ToString());
        return execution.Json.Clone();
    }

    public Task<List<T>> QueryAsync<T>(Func<QarionDbContext, IQueryable<T>> query) => WithDbAsync(db => query(db).ToListAsync());
}
