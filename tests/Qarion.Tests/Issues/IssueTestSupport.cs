using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Issues;

/// <summary>A quality alert arranged below the API (raising alerts belongs to the execution pipeline).</summary>
public sealed record SeededAlert(Guid Id, Guid CheckId, Guid RaisedBy, Guid LastExecution);

internal static class IssueTestSupport
{
    public static string IssuesUrl(string space) => $"/api/v1/spaces/{space}/issues";

    public static string AlertsUrl(string space) => $"/api/v1/spaces/{space}/alerts";

    /// <summary>Creates an issue (asserting 201) and returns its JSON.</summary>
    public static async Task<JsonElement> CreateIssueAsync(this ApiClient client, string space, string title, object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["title"] = title };
        if (extra is not null)
            foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        var response = await client.PostAsync(IssuesUrl(space), body);
        Assert.True(response.Status == 201, $"create issue {title}: {response}");
        return response.Json.Clone();
    }

    public static int Number(this JsonElement e) => e.GetProperty("number").GetInt32();

    public static string? NullableStr(this JsonElement e, string name)
        => e.GetProperty(name).ValueKind == JsonValueKind.Null ? null : e.GetProperty(name).GetString();

    public static Task<Guid> SpaceIdAsync(this AppFixture app, string space)
        => app.WithDbAsync(db => db.Spaces.Where(s => s.Slug == space).Select(s => s.Id).SingleAsync());

    /// <summary>
    /// A check on <paramref name="productId"/> with two failed executions and the alert they raised
    /// (raised by the first, last seen on the second, two occurrences).
    /// </summary>
    public static async Task<SeededAlert> SeedAlertAsync(
        this AppFixture app, string space, Guid productId, string checkSlug, CheckSeverity severity = CheckSeverity.High,
        AlertStatus status = AlertStatus.Active, DateTimeOffset? raisedAt = null, string checkName = "Emails are present",
        string checkType = CheckTypes.NullCheck, double? metric = 12, string? message = "12 of 1000 rows have a null email")
    {
        var spaceId = await app.SpaceIdAsync(space);
        var raised = raisedAt ?? app.Clock.GetUtcNow();
        return await app.WithDbAsync(async db =>
        {
            var check = new QualityCheck
            {
                SpaceId = spaceId, Slug = checkSlug, Name = checkName, CheckType = checkType, Config = "{}", Severity = severity,
            };
            db.QualityChecks.Add(check);
            db.CheckProducts.Add(new CheckProduct { CheckId = check.Id, ProductId = productId, Position = 0 });
            var first = new CheckExecution
            {
                SpaceId = spaceId, CheckId = check.Id, Status = ExecutionStatus.Fail, Trigger = ExecutionTrigger.Schedule,
                IdempotencyKey = $"{checkSlug}-1", Metric = 3, Total = 1000, Message = "3 of 1000 rows have a null email",
                StartedAt = raised, CompletedAt = raised,
            };
            var last = new CheckExecution
            {
                SpaceId = spaceId, CheckId = check.Id, Status = ExecutionStatus.Fail, Trigger = ExecutionTrigger.Schedule,
                IdempotencyKey = $"{checkSlug}-2", Metric = metric, Total = 1000, Message = message,
                StartedAt = raised.AddHours(1), CompletedAt = raised.AddHours(1),
            };
            db.CheckExecutions.AddRange(first, last);
            var alert = new QualityAlert
            {
                SpaceId = spaceId, CheckId = check.Id, ProductId = productId, Status = status, Severity = severity,
                Title = $"{checkName} failed", Message = "Null emails found", RaisedStatus = ExecutionStatus.Fail,
                RaisedByExecutionId = first.Id, LastExecutionId = last.Id, Occurrences = 2, RaisedAt = raised,
                LastSeenAt = raised.AddHours(1),
                ResolvedAt = status == AlertStatus.Resolved ? raised.AddHours(2) : null,
                AutoResolved = status == AlertStatus.Resolved,
            };
            db.QualityAlerts.Add(alert);
            await db.SaveChangesAsync();
            return new SeededAlert(alert.Id, check.Id, first.Id, last.Id);
        });
    }

    /// <summary>The outbox rows of a space: (event type, payload) oldest first.</summary>
    public static async Task<List<(string Type, JsonElement Payload)>> OutboxAsync(this AppFixture app, string space)
    {
        var spaceId = await app.SpaceIdAsync(space);
        // Catalog events (product.created / product.updated, tested in Notifications) are left out: these tests arrange products.
        var rows = await app.WithDbAsync(db => db.OutboxEvents.AsNoTracking().Where(e => e.SpaceId == spaceId && !e.EventType.StartsWith("product."))
            .OrderBy(e => e.OccurredAt).ThenBy(e => e.Id).Select(e => new { e.EventType, e.Payload }).ToListAsync());
        return rows.Select(r => (r.EventType, JsonDocument.Parse(r.Payload).RootElement.Clone())).ToList();
    }

    /// <summary>History rows as (kind, old, new), in the order the API returns them.</summary>
    public static async Task<List<(string Kind, string? Old, string? New)>> HistoryAsync(this ApiClient client, string space, object issue)
    {
        var response = await client.GetAsync($"{IssuesUrl(space)}/{issue}/history?size=100");
        return response.Items().Select(e => (e.Str("kind"), e.NullableStr("old_value"), e.NullableStr("new_value"))).ToList();
    }
}
