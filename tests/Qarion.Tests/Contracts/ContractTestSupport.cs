using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Contracts;

/// <summary>Rows the SLA terms read, inserted directly through the DbContext, and small readers of the results.</summary>
internal static class ContractTestSupport
{
    public sealed record Arranged(string Space, Guid SpaceId, TestUser Editor, Guid Producer, Guid Consumer);

    public static async Task<Arranged> ArrangeAsync(this AppFixture app)
    {
        var editor = await app.CreateUserAsync("Editor");
        var space = await app.CreateSpaceAsync(null, (editor, "editor"));
        var producer = (await editor.Client.CreateProductAsync(space, "producer")).Id();
        var consumer = (await editor.Client.CreateProductAsync(space, "consumer")).Id();
        var spaceId = await app.WithDbAsync(db => db.Spaces.Where(s => s.Slug == space).Select(s => s.Id).SingleAsync());
        return new Arranged(space, spaceId, editor, producer, consumer);
    }

    /// <summary>Creates an active contract from producer to consumer with the given terms; returns its id.</summary>
    public static async Task<Guid> ActiveContractAsync(this Arranged a, string name, object terms)
    {
        var body = new Dictionary<string, object?> { ["name"] = name, ["producer"] = "producer", ["consumers"] = new[] { "consumer" }, ["status"] = "active" };
        foreach (var p in terms.GetType().GetProperties()) body[p.Name] = p.GetValue(terms);
        var r = await a.Editor.Client.PostAsync(ContractApiTests.Contracts(a.Space), body);
        Assert.True(r.Status == 201, r.ToString());
        return r.Json.Id();
    }

    public static async Task<JsonElement> EvaluateAsync(this Arranged a, Guid contract)
    {
        var r = await a.Editor.Client.PostAsync($"{ContractApiTests.Contracts(a.Space)}/{contract}/evaluate", new { });
        Assert.True(r.Status == 200, r.ToString());
        return r.Json.Clone();
    }

    public static async Task<Guid> AddCheckAsync(this AppFixture app, Guid spaceId, Guid productId, string type = CheckTypes.Freshness, bool archived = false)
        => await app.WithDbAsync(async db =>
        {
            var check = new QualityCheck
            {
                SpaceId = spaceId, Slug = "chk-" + Guid.NewGuid().ToString("N")[..12], Name = type + " check", CheckType = type, Config = "{}",
                IsArchived = archived, ArchivedAt = archived ? app.Clock.GetUtcNow() : null,
            };
            db.QualityChecks.Add(check);
            db.CheckProducts.Add(new CheckProduct { CheckId = check.Id, ProductId = productId, Position = 0 });
            await db.SaveChangesAsync();
            return check.Id;
        });

    public static async Task AddRunsAsync(this AppFixture app, Guid spaceId, Guid checkId, ExecutionStatus status, DateTimeOffset? completedAt, double? metric = null, int count = 1, bool ignored = false)
        => await app.WithDbAsync(async db =>
        {
            for (var i = 0; i < count; i++)
                db.CheckExecutions.Add(new CheckExecution
                {
                    SpaceId = spaceId, CheckId = checkId, Status = status, Trigger = ExecutionTrigger.Schedule,
                    IdempotencyKey = Guid.NewGuid().ToString("N"), Metric = metric, IsIgnored = ignored,
                    StartedAt = completedAt, CompletedAt = completedAt,
                });
            return await db.SaveChangesAsync();
        });

    public static async Task SetScoreAsync(this AppFixture app, Guid spaceId, Guid productId, double? score)
        => await app.WithDbAsync(async db =>
        {
            var row = await db.ProductQualityScores.SingleOrDefaultAsync(s => s.ProductId == productId);
            if (row is null) db.ProductQualityScores.Add(row = new ProductQualityScore { ProductId = productId, SpaceId = spaceId, Health = "unknown" });
            row.Score = score;
            row.ComputedAt = app.Clock.GetUtcNow();
            return await db.SaveChangesAsync();
        });

    /// <summary>(status, expected, actual) of one term in <c>sla_details</c>.</summary>
    public static (string Status, double Expected, double? Actual) Term(this JsonElement contract, string term)
    {
        var t = contract.GetProperty("sla_details").EnumerateArray().Single(x => x.Str("term") == term);
        var actual = t.GetProperty("actual");
        return (t.Str("status"), t.GetProperty("expected").GetDouble(), actual.ValueKind == JsonValueKind.Null ? null : actual.GetDouble());
    }

    public static Task<long> EventsAsync(this AppFixture app, Guid contract)
        => app.Database.ScalarAsync<long>($"SELECT count(*) FROM outbox_events WHERE event_type = 'contract.violated' AND payload->>'contract_id' = '{contract}'");

    /// <summary>Open violations as (term, severity, actual).</summary>
    public static async Task<List<(string Term, string Severity, double? Actual)>> OpenViolationsAsync(this AppFixture app, Guid contract)
        => await app.WithDbAsync(async db => (await db.ContractViolations.AsNoTracking().Where(v => v.ContractId == contract && v.ResolvedAt == null)
                .OrderBy(v => v.Term).ToListAsync())
            .Select(v => (v.Term, Qarion.Core.Common.JsonNames.ToSnakeCase(v.Severity.ToString()), v.Actual)).ToList());
}
