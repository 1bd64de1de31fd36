using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Quality;

/// <summary>
/// Running checks and reading their results: run now (queued, 202), push or enter a result (custom / manual),
/// executions and their filters, ignore / un-ignore, statistics, daily trends and product scores.
/// </summary>
public sealed class ExecutionService(
    QarionDbContext db, SpaceAccess access, CurrentUser me, CatalogSupport catalog, ExecutionRecorder recorder,
    CheckMessages messages, TimeProvider clock)
{
    public const int MaxWindowDays = 366;

    /// <summary>
    /// Queues a run (Editor). The same <paramref name="idempotencyKey"/> again returns the first execution
    /// (and sends its message again only while it is still queued). Returns whether the execution is new.
    /// </summary>
    public async Task<(RunCheckResponse Run, bool Created)> RunAsync(string spaceSlug, string checkRef, string? idempotencyKey, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var check = await FindCheckAsync(space, checkRef, ct);
        if (check.IsArchived) throw new ConflictException("The check is archived; unarchive it to run it.", "check_archived");
        if (CheckTypes.IsExternal(check.CheckType))
            throw new ConflictException($"A {check.CheckType} check is not run: post its result to …/checks/{check.Slug}/results.", "check_not_runnable");
        var fresh = CheckExecutor.NewExecution(check, ExecutionTrigger.Manual, me.Id,
            idempotencyKey is null ? $"run:{Guid.NewGuid():N}" : $"client:{idempotencyKey}");
        var key = fresh.IdempotencyKey;
        var existing = idempotencyKey is null ? null
            : await db.CheckExecutions.AsNoTracking().SingleOrDefaultAsync(e => e.SpaceId == space.SpaceId && e.IdempotencyKey == key, ct);
        var created = existing is null;
        var execution = existing ?? fresh;
        if (created)
        {
            db.CheckExecutions.Add(execution);
            try { await db.SaveChangesAsync(ct); }
            catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
            {
                // The same key raced us: answer with the winner's execution.
                db.ChangeTracker.Clear();
                execution = await db.CheckExecutions.AsNoTracking().SingleAsync(e => e.SpaceId == space.SpaceId && e.IdempotencyKey == key, ct);
                created = false;
            }
        }
        // Sent after the commit: a failed send leaves the execution queued, and the scheduler sends it again.
        if (execution.Status == ExecutionStatus.Queued) await messages.SendAsync(CheckExecutor.MessageFor(execution), ct);
        return (new RunCheckResponse(execution.Id, check.Id, execution.Status, $"/api/v1/spaces/{space.Slug}/executions/{execution.Id}"), created);
    }

    /// <summary>Records a custom check's pushed result or a manual check's entered value (Editor), judged at once.</summary>
    public async Task<(ExecutionResponse Execution, bool Created)> PushResultAsync(string spaceSlug, string checkRef, PushResultRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var check = await FindCheckAsync(space, checkRef, ct);
        if (!CheckTypes.IsExternal(check.CheckType))
            throw new ConflictException($"A {check.CheckType} check measures its own results: run it with POST …/checks/{check.Slug}/run.", "check_not_external");
        if (check.IsArchived) throw new ConflictException("The check is archived; unarchive it to record results.", "check_archived");
        if (request.Status is not null && check.CheckType == CheckTypes.Manual)
            throw RequestValidationException.For("body", "status", "a manual check is judged by its thresholds; send metric, not status", "not_allowed");
        var key = $"{check.Id:N}:{(request.IdempotencyKey is null ? $"result:{Guid.NewGuid():N}" : $"client:{request.IdempotencyKey}")}";
        var existing = await db.CheckExecutions.AsNoTracking().Where(e => e.SpaceId == space.SpaceId && e.IdempotencyKey == key).Select(e => e.Id).FirstOrDefaultAsync(ct);
        if (existing != Guid.Empty) return (await GetAsync(space, existing, ct), false);

        ExecutionStatus status;
        string? message = request.Message;
        if (request.Status is { } given) status = given;
        else
        {
            var (judged, why) = ThresholdEvaluation.Evaluate(request.Metric, request.Total,
                CheckConfigJson.ReadThreshold(check.WarningThreshold), CheckConfigJson.ReadThreshold(check.CriticalThreshold));
            status = CheckExecutor.ToExecution(judged);
            message ??= why;
        }
        var now = clock.GetUtcNow();
        var execution = new CheckExecution
        {
            SpaceId = space.SpaceId,
            CheckId = check.Id,
            Status = status,
            Trigger = check.CheckType == CheckTypes.Manual ? ExecutionTrigger.Person : ExecutionTrigger.Api,
            TriggeredById = me.Id,
            IdempotencyKey = key,
            Metric = request.Metric,
            Total = request.Total,
            Message = message,
            Attempts = 1,
            StartedAt = now,
            CompletedAt = now,
        };
        try { await recorder.AddCompletedAsync(execution, ct); }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            var winner = await db.CheckExecutions.AsNoTracking().Where(e => e.SpaceId == space.SpaceId && e.IdempotencyKey == key).Select(e => e.Id).SingleAsync(ct);
            return (await GetAsync(space, winner, ct), false);
        }
        return (await GetAsync(space, execution.Id, ct), true);
    }

    public async Task<ExecutionResponse> GetAsync(string spaceSlug, Guid executionId, CancellationToken ct)
        => await GetAsync(await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct), executionId, ct);

    /// <summary>Executions of the space, or of one check, newest first.</summary>
    public async Task<Paged<ExecutionResponse>> ListAsync(string spaceSlug, string? checkRef, ExecutionFilter filter, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        RequireWindow(filter.From, filter.To);
        var query = db.CheckExecutions.AsNoTracking().Where(e => e.SpaceId == space.SpaceId);
        if (checkRef is not null)
        {
            var checkId = (await FindCheckAsync(space, checkRef, ct)).Id;
            query = query.Where(e => e.CheckId == checkId);
        }
        if (filter.Product is not null)
        {
            var productId = await catalog.FindProductIdAsync(space, filter.Product, ct);
            query = query.Where(e => db.CheckProducts.Any(cp => cp.CheckId == e.CheckId && cp.ProductId == productId));
        }
        if (filter.Status is { } status) query = query.Where(e => e.Status == status);
        if (filter.Trigger is { } trigger) query = query.Where(e => e.Trigger == trigger);
        if (filter.Ignored is { } ignored) query = query.Where(e => e.IsIgnored == ignored);
        if (filter.From is { } from) query = query.Where(e => e.CreatedAt >= from);
        if (filter.To is { } to) query = query.Where(e => e.CreatedAt < to);
        var rows = from e in query
                   join c in db.QualityChecks.AsNoTracking() on e.CheckId equals c.Id
                   orderby e.CreatedAt descending, e.Id descending
                   select new Row(e, c.Slug, c.Name, c.CheckType);
        var paged = await rows.ToPageAsync(page, ct);
        return new Paged<ExecutionResponse>(paged.Items.Select(ToResponse).ToList(), paged.Total, paged.Page, paged.Size);
    }

    /// <summary>Leaves an execution out of statistics, scores and the check's last status (Editor), or brings it back.</summary>
    public async Task<ExecutionResponse> SetIgnoredAsync(string spaceSlug, Guid executionId, bool ignored, string? reason, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var execution = await db.CheckExecutions
            .FromSql($"SELECT * FROM check_executions WHERE id = {executionId} AND space_id = {space.SpaceId} FOR UPDATE")
            .SingleOrDefaultAsync(ct) ?? throw new NotFoundException("Execution", executionId.ToString());
        if (execution.CompletedAt is null)
            throw new ConflictException("Only a completed execution can be ignored.", "execution_pending");
        if (execution.IsIgnored != ignored)
        {
            execution.IsIgnored = ignored;
            execution.IgnoredAt = ignored ? clock.GetUtcNow() : null;
            execution.IgnoredById = ignored ? me.Id : null;
            execution.IgnoreReason = ignored ? reason?.Trim() : null;
            await db.SaveChangesAsync(ct);
            await recorder.RefreshCheckAsync(execution.CheckId, ct);
        }
        await tx.CommitAsync(ct);
        return await GetAsync(space, executionId, ct);
    }

    public async Task<CheckStatsResponse> CheckStatsAsync(string spaceSlug, string checkRef, int? days, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var check = await FindCheckAsync(space, checkRef, ct);
        var (window, from) = Window(days);
        var runs = db.CheckExecutions.AsNoTracking().Where(e => e.CheckId == check.Id && e.CreatedAt >= from);
        var counts = await CountAsync(runs.Where(e => !e.IsIgnored), ct);
        var ignored = await runs.CountAsync(e => e.IsIgnored, ct);
        var durations = await runs.Where(e => !e.IsIgnored && e.DurationMs != null).OrderBy(e => e.DurationMs)
            .Select(e => e.DurationMs!.Value).ToListAsync(ct);
        var last = await db.CheckExecutions.AsNoTracking()
            .Where(e => e.CheckId == check.Id && e.CompletedAt != null && !e.IsIgnored)
            .OrderByDescending(e => e.CompletedAt).ThenByDescending(e => e.Id)
            .Select(e => new { e.Metric }).FirstOrDefaultAsync(ct);
        return new CheckStatsResponse(
            check.Id, window, from, counts, counts.PassRate,
            durations.Count == 0 ? null : Math.Round(durations.Average(), 2),
            durations.Count == 0 ? null : durations[Math.Min(durations.Count - 1, (int)Math.Ceiling(durations.Count * 0.95) - 1)],
            last?.Metric, check.LastStatus, check.LastRunAt, ignored);
    }

    public async Task<SpaceQualityStatsResponse> SpaceStatsAsync(string spaceSlug, int? days, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var (window, from) = Window(days);
        var checks = await db.QualityChecks.AsNoTracking().Where(c => c.SpaceId == space.SpaceId && !c.IsArchived)
            .Select(c => new { c.IsActive, c.LastStatus }).ToListAsync(ct);
        var byLast = checks.Where(c => c.IsActive)
            .GroupBy(c => c.LastStatus is { } s ? SnakeCaseEnums.Name(s) : "never")
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var counts = await CountAsync(db.CheckExecutions.AsNoTracking().Where(e => e.SpaceId == space.SpaceId && e.CreatedAt >= from && !e.IsIgnored), ct);
        var alerts = await db.QualityAlerts.AsNoTracking().Where(a => a.SpaceId == space.SpaceId && a.Status != AlertStatus.Resolved)
            .GroupBy(a => a.Severity).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        var scores = await (
                from s in db.ProductQualityScores.AsNoTracking()
                join p in db.Products.AsNoTracking() on s.ProductId equals p.Id
                where s.SpaceId == space.SpaceId && !p.IsArchived
                select new { s.Score, s.Health })
            .ToListAsync(ct);
        var scored = scores.Where(s => s.Score is not null).Select(s => s.Score!.Value).ToList();
        return new SpaceQualityStatsResponse(
            window, from, checks.Count, checks.Count(c => c.IsActive), byLast, counts, counts.PassRate,
            alerts.ToDictionary(a => SnakeCaseEnums.Name(a.Key), a => a.Count, StringComparer.Ordinal),
            scored.Count == 0 ? null : Math.Round(scored.Average(), 2),
            scores.GroupBy(s => s.Health).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal));
    }

    /// <summary>Completed, non-ignored executions per UTC day (every day of the window, zeros included).</summary>
    public async Task<TrendResponse> TrendAsync(string spaceSlug, string? productRef, int? days, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var (window, from) = Window(days);
        from = new DateTimeOffset(from.UtcDateTime.Date.AddDays(1), TimeSpan.Zero).AddDays(-1);
        Guid? productId = productRef is null ? null : await catalog.FindProductIdAsync(space, productRef, ct);
        var rows = await TrendRowsAsync(space.SpaceId, productId, from, ct);
        var points = new List<TrendPoint>();
        var today = clock.GetUtcNow().UtcDateTime.Date;
        for (var day = from.UtcDateTime.Date; day <= today; day = day.AddDays(1))
        {
            var name = DateOnly.FromDateTime(day);
            int Of(ExecutionStatus s) => rows.Where(r => r.Day == name && r.Status == SnakeCaseEnums.Name(s)).Sum(r => r.Count);
            var c = new StatusCounts(Of(ExecutionStatus.Pass), Of(ExecutionStatus.Warning), Of(ExecutionStatus.Fail), Of(ExecutionStatus.Error), 0, 0);
            points.Add(new TrendPoint(DateOnly.FromDateTime(day), c.Pass, c.Warning, c.Fail, c.Error, c.PassRate));
        }
        return new TrendResponse(window, productId, points);
    }

    public async Task<ProductQualityResponse> ProductQualityAsync(string spaceSlug, string productRef, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var productId = await catalog.FindProductIdAsync(space, productRef, ct);
        var score = await db.ProductQualityScores.AsNoTracking().SingleOrDefaultAsync(s => s.ProductId == productId, ct);
        var checks = await (
                from cp in db.CheckProducts.AsNoTracking()
                join c in db.QualityChecks.AsNoTracking() on cp.CheckId equals c.Id
                where cp.ProductId == productId && !c.IsArchived
                orderby c.Name, c.Id
                select new ProductQualityCheck(c.Id, c.Slug, c.Name, c.CheckType, c.Severity, c.IsActive, c.LastStatus, c.LastRunAt))
            .ToListAsync(ct);
        var openAlerts = await db.QualityAlerts.CountAsync(a => a.ProductId == productId && a.Status != AlertStatus.Resolved, ct);
        return new ProductQualityResponse(productId, score?.Score, score?.Health ?? "unknown", score?.Passing ?? 0, score?.Warning ?? 0,
            score?.Failing ?? 0, score?.Errored ?? 0, score?.ComputedAt, openAlerts, checks);
    }

    private async Task<ExecutionResponse> GetAsync(SpaceContext space, Guid executionId, CancellationToken ct)
    {
        var row = await Joined(db.CheckExecutions.AsNoTracking().Where(e => e.Id == executionId && e.SpaceId == space.SpaceId))
            .SingleOrDefaultAsync(ct) ?? throw new NotFoundException("Execution", executionId.ToString());
        return ToResponse(row);
    }

    private Task<QualityCheck> FindCheckAsync(SpaceContext space, string idOrSlug, CancellationToken ct)
        => db.QualityChecks.AsNoTracking().FindInSpaceAsync(space, idOrSlug, ct);

    private static async Task<StatusCounts> CountAsync(IQueryable<CheckExecution> query, CancellationToken ct)
    {
        var rows = await query.GroupBy(e => e.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        int Of(ExecutionStatus s) => rows.FirstOrDefault(r => r.Key == s)?.Count ?? 0;
        return new StatusCounts(Of(ExecutionStatus.Pass), Of(ExecutionStatus.Warning), Of(ExecutionStatus.Fail), Of(ExecutionStatus.Error),
            Of(ExecutionStatus.Queued), Of(ExecutionStatus.Running));
    }

    private (int Days, DateTimeOffset From) Window(int? days)
    {
        var window = days ?? 30;
        if (window is < 1 or > MaxWindowDays)
            throw RequestValidationException.For("query", "days", $"days must be between 1 and {MaxWindowDays}", "out_of_range");
        return (window, clock.GetUtcNow().AddDays(-window));
    }

    private static void RequireWindow(DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is { } f && to is { } t && f >= t)
            throw RequestValidationException.For("query", "to", "to must be after from", "invalid_window");
    }

    private sealed record TrendRow(DateOnly Day, string Status, int Count);

    /// <summary>
    /// Counts per UTC day and status, grouped in the database (a year of per-minute runs is half a million rows).
    /// Plain ADO.NET: EF's SqlQuery of an unmapped type is refused by the strict-loading proxies.
    /// </summary>
    private async Task<List<TrendRow>> TrendRowsAsync(Guid spaceId, Guid? productId, DateTimeOffset from, CancellationToken ct)
    {
        var connection = (Npgsql.NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = new Npgsql.NpgsqlCommand("""
                SELECT (e.completed_at AT TIME ZONE 'UTC')::date, e.status, count(*)::int
                FROM check_executions e
                WHERE e.space_id = $1 AND e.completed_at >= $2 AND NOT e.is_ignored
                  AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM check_products cp WHERE cp.check_id = e.check_id AND cp.product_id = $3))
                GROUP BY 1, 2
                """, connection)
            {
                Parameters =
                {
                    new Npgsql.NpgsqlParameter<Guid> { TypedValue = spaceId },
                    new Npgsql.NpgsqlParameter<DateTimeOffset> { TypedValue = from },
                    new Npgsql.NpgsqlParameter { Value = (object?)productId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid },
                },
            };
            var rows = new List<TrendRow>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) rows.Add(new TrendRow(reader.GetFieldValue<DateOnly>(0), reader.GetString(1), reader.GetInt32(2)));
            return rows;
        }
        finally { await db.Database.CloseConnectionAsync(); }
    }

    private sealed record Row(CheckExecution Execution, string Slug, string Name, string Type);

    /// <summary>Executions with their check's names.</summary>
    private IQueryable<Row> Joined(IQueryable<CheckExecution> executions)
        => executions.Join(db.QualityChecks.AsNoTracking(), e => e.CheckId, c => c.Id, (e, c) => new Row(e, c.Slug, c.Name, c.CheckType));

    private static ExecutionResponse ToResponse(Row row)
    {
        var e = row.Execution;
        return new ExecutionResponse(
            e.Id, e.CheckId, row.Slug, row.Name, row.Type, e.Status, e.Trigger, e.TriggeredById, e.Metric, e.Total, e.Sql, e.Message,
            e.Details is null ? null : JsonDocument.Parse(e.Details).RootElement.Clone(), e.DurationMs, e.Attempts, e.IsIgnored,
            e.IgnoredById, e.IgnoredAt, e.IgnoreReason, e.CreatedAt, e.StartedAt, e.CompletedAt);
    }
}
