using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Outbox;
using Qarion.Core.Quality;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.AlertConnectors;

/// <summary>The app with a real HTTP receiver (Slack, Teams) and a real SMTP server (STARTTLS, self-signed certificate pinned by fingerprint).</summary>
public sealed class AlertConnectorFixture : AppFixture
{
    public HttpSink Http { get; private set; } = null!;
    public SmtpSink Smtp { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = Smtp.Settings();
            settings["Qarion:Outbound:AllowPrivateNetworks"] = "true";
            settings["Qarion:Outbound:TimeoutSeconds"] = "2";
            return settings;
        }
    }

    public override async Task InitializeAsync()
    {
        Http = await HttpSink.StartAsync();
        Smtp = await SmtpSink.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Http.DisposeAsync();
        await Smtp.DisposeAsync();
    }
}

/// <summary>Arranges real outbox events (through the execution recorder) and hands them to the alert connectors' consumer.</summary>
internal static class AlertTestSupport
{
    /// <summary>A check on the product, run once with <paramref name="status"/> through <see cref="ExecutionRecorder"/>; returns the check and the outbox events it wrote.</summary>
    public static async Task<(Guid CheckId, List<OutboxMessage> Events)> CreateAndRunCheckAsync(
        this AppFixture app, Guid spaceId, Guid productId, string slug, string name, CheckSeverity severity, ExecutionStatus status, string? message, double? metric)
    {
        var checkId = await app.WithDbAsync(async db =>
        {
            var check = new QualityCheck { SpaceId = spaceId, Slug = slug, Name = name, CheckType = "custom", Config = """{"type": "custom"}""", Severity = severity };
            db.QualityChecks.Add(check);
            db.CheckProducts.Add(new CheckProduct { CheckId = check.Id, ProductId = productId, Position = 0 });
            await db.SaveChangesAsync();
            return check.Id;
        });
        return (checkId, await app.RunCheckAsync(spaceId, checkId, status, message, metric));
    }

    /// <summary>Runs the check once more with <paramref name="status"/>; returns the outbox events that run wrote.</summary>
    public static async Task<List<OutboxMessage>> RunCheckAsync(this AppFixture app, Guid spaceId, Guid checkId, ExecutionStatus status, string? message, double? metric)
    {
        var before = await app.WithDbAsync(db => db.Set<OutboxEvent>().Where(e => e.SpaceId == spaceId).Select(e => e.Id).ToListAsync());
        var executionId = await app.WithDbAsync(async db =>
        {
            var execution = new CheckExecution
            {
                SpaceId = spaceId, CheckId = checkId, Status = ExecutionStatus.Queued, Trigger = ExecutionTrigger.Manual, IdempotencyKey = Guid.NewGuid().ToString(),
            };
            db.CheckExecutions.Add(execution);
            await db.SaveChangesAsync();
            return execution.Id;
        });
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var recorder = scope.ServiceProvider.GetRequiredService<ExecutionRecorder>();
            Assert.True(await recorder.CompleteAsync(executionId, new ExecutionResult(status, metric, 100, "SELECT 1", message, null, 5), default));
        }
        var rows = await app.WithDbAsync(db => db.Set<OutboxEvent>().AsNoTracking().Where(e => e.SpaceId == spaceId && !before.Contains(e.Id)).OrderBy(e => e.Id).ToListAsync());
        // As the relay puts them on the queue and the queue handler reads them back.
        return rows.Select(r => OutboxMessage.TryParse(OutboxMessage.From(r).ToJson())!).ToList();
    }

    /// <summary>Delivers one queue message to the alert connectors' consumer, as the notifications queue handler does.</summary>
    public static async Task DispatchAsync(this AppFixture app, OutboxMessage message)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var consumer = scope.ServiceProvider.GetServices<IOutboxEventConsumer>().Single(c => c.Name == "alert_connectors");
        await consumer.ConsumeAsync(message, default);
    }

    public static void AssertJson(string expected, string actual)
        => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected:\n{expected}\nactual:\n{actual}");

    public static string Lf(string? text) => (text ?? "").Replace("\r\n", "\n", StringComparison.Ordinal);
}
