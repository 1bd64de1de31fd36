using System.Globalization;
using System.Linq.Expressions;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Issues;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Quality;

/// <summary>
/// The alert management API: Viewers read alerts; Editors annotate, acknowledge, re-grade, resolve them and open an
/// issue from one. Raising and auto-resolving belong to the execution pipeline, not here.
/// </summary>
public sealed class AlertService(QarionDbContext db, CurrentUser me, SpaceAccess access, IssueService issues, TimeProvider clock)
{
    public static readonly IReadOnlyList<string> StatusFilters = ["active", "acknowledged", "resolved", "open"];

    public async Task<Paged<AlertSummary>> ListAsync(string spaceSlug, AlertListQuery query, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        if (query.From is { } from && query.To is { } to && to <= from)
            throw RequestValidationException.For("query", "to", "must be after from", "value_error");
        var alerts = db.QualityAlerts.AsNoTracking().Where(a => a.SpaceId == space.SpaceId);
        alerts = query.Status switch
        {
            null => alerts,
            "active" => alerts.Where(a => a.Status == AlertStatus.Active),
            "acknowledged" => alerts.Where(a => a.Status == AlertStatus.Acknowledged),
            "resolved" => alerts.Where(a => a.Status == AlertStatus.Resolved),
            "open" => alerts.Where(a => a.Status != AlertStatus.Resolved),
            _ => throw RequestValidationException.For("query", "status", "must be one of: " + string.Join(", ", StatusFilters), "enum"),
        };
        if (query.Severity is { } severity) alerts = alerts.Where(a => a.Severity == severity);
        if (query.CheckId is { } check) alerts = alerts.Where(a => a.CheckId == check);
        if (query.ProductId is { } product) alerts = alerts.Where(a => a.ProductId == product);
        if (query.From is { } f) alerts = alerts.Where(a => a.RaisedAt >= f);
        if (query.To is { } t) alerts = alerts.Where(a => a.RaisedAt < t);

        return await alerts.OrderByDescending(a => a.RaisedAt).ThenByDescending(a => a.Id)
            .Select(a => new AlertSummary(
                a.Id, a.Status, a.Severity, a.Title,
                db.QualityChecks.Where(c => c.Id == a.CheckId).Select(c => new AlertCheckRef(c.Id, c.Slug, c.Name, c.CheckType)).FirstOrDefault()!,
                db.Products.Where(p => p.Id == a.ProductId).Select(p => new AlertProductRef(p.Id, p.Slug, p.Name)).FirstOrDefault()!,
                a.Occurrences, a.RaisedAt, a.LastSeenAt, a.ResolvedAt, a.IssueId, a.Version))
            .ToPageAsync(page, ct);
    }

    public async Task<AlertResponse> GetAsync(string spaceSlug, Guid id, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        return await GetInSpaceAsync(space, id, ct);
    }

    public async Task<AnnotationResponse> AnnotateAsync(string spaceSlug, Guid id, AnnotateAlertRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        if (!await db.QualityAlerts.AnyAsync(a => a.Id == id && a.SpaceId == space.SpaceId, ct)) throw new NotFoundException("Alert", id.ToString());
        var annotation = new AlertAnnotation { AlertId = id, SpaceId = space.SpaceId, AuthorId = me.Id, Body = request.Body };
        db.AlertAnnotations.Add(annotation);
        await db.SaveOrConflictAsync(ct);
        return await db.AlertAnnotations.AsNoTracking().Where(n => n.Id == annotation.Id).Select(AnnotationProjection()).SingleAsync(ct);
    }

    /// <summary>Marks an open alert as seen by a person; acknowledging an acknowledged alert keeps the first acknowledgement.</summary>
    public async Task<AlertResponse> AcknowledgeAsync(string spaceSlug, Guid id, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var alert = await FindAsync(space, id, ct);
        Concurrency.ExpectVersion(db, alert, ifMatch);
        RequireOpen(alert, "acknowledged");
        if (alert.Status == AlertStatus.Active)
        {
            alert.Status = AlertStatus.Acknowledged;
            alert.AcknowledgedAt = clock.GetUtcNow();
            alert.AcknowledgedById = me.Id;
            await db.SaveOrConflictAsync(ct);
        }
        return await GetInSpaceAsync(space, id, ct);
    }

    public async Task<AlertResponse> UpdateAsync(string spaceSlug, Guid id, UpdateAlertRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var alert = await FindAsync(space, id, ct);
        Concurrency.ExpectVersion(db, alert, ifMatch ?? request.Version);
        RequireOpen(alert, "re-graded");
        if (alert.Severity != request.Severity)
        {
            alert.Severity = request.Severity;
            await db.SaveOrConflictAsync(ct);
        }
        return await GetInSpaceAsync(space, id, ct);
    }

    public async Task<AlertResponse> ResolveAsync(string spaceSlug, Guid id, ResolveAlertRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var alert = await FindAsync(space, id, ct);
        Concurrency.ExpectVersion(db, alert, ifMatch);
        RequireOpen(alert, "resolved");
        var now = clock.GetUtcNow();
        alert.Status = AlertStatus.Resolved;
        alert.ResolvedAt = now;
        alert.ResolvedById = me.Id;
        alert.AutoResolved = false;
        alert.ResolutionNote = string.IsNullOrWhiteSpace(request.Note) ? null : request.Note;
        db.AddOutboxEvent(space.SpaceId, OutboxEventTypes.AlertResolved, new AlertResolvedPayload(
            alert.Id, alert.SpaceId, alert.CheckId, alert.ProductId, alert.Severity, alert.Title, false, me.Id, alert.ResolutionNote, alert.IssueId, now));
        await db.SaveOrConflictAsync(ct);
        return await GetInSpaceAsync(space, id, ct);
    }

    /// <summary>
    /// Opens an issue from the alert, in one transaction: the issue (titled and prioritised from the alert, described
    /// with its context, linked to its product, its check and itself), and the alert's link back. The alert row is
    /// locked first, so of two concurrent calls the second sees the first's issue and gets 409.
    /// </summary>
    public async Task<IssueResponse> CreateIssueAsync(string spaceSlug, Guid id, CreateIssueFromAlertRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        if (request.AssigneeId is { } assignee && !await db.SpaceMemberships.AnyAsync(m => m.SpaceId == space.SpaceId && m.UserId == assignee, ct))
            throw RequestValidationException.For("body", "assignee_id", "must be a member of the space", "not_a_member");

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM quality_alerts WHERE id = {id} AND space_id = {space.SpaceId} FOR UPDATE", ct);
        var alert = await FindAsync(space, id, ct);
        if (alert.IssueId is { } existing)
        {
            var number = await db.Issues.AsNoTracking().Where(i => i.Id == existing).Select(i => (int?)i.Number).SingleOrDefaultAsync(ct);
            throw new ConflictException(
                $"The alert already has issue {(number is null ? "" : $"#{number} ")}(id {existing}).", "alert_has_issue");
        }

        var issue = new Issue
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()),
            SpaceId = space.SpaceId,
            Title = request.Title?.Trim() ?? alert.Title,
            Description = await DescribeAsync(alert, ct),
            Priority = request.Priority ?? PriorityOf(alert.Severity),
            AssigneeId = request.AssigneeId,
            ReporterId = me.Id,
            AlertId = alert.Id,
            CheckId = alert.CheckId,
        };
        alert.IssueId = issue.Id;
        await issues.CreateInSpaceAsync(space, issue, [alert.ProductId], ct);
        await tx.CommitAsync(ct);
        return await issues.GetByIdAsync(issue.Id, ct);
    }

    public static IssuePriority PriorityOf(CheckSeverity severity) => severity switch
    {
        CheckSeverity.Low => IssuePriority.Low,
        CheckSeverity.High => IssuePriority.High,
        CheckSeverity.Critical => IssuePriority.Critical,
        _ => IssuePriority.Medium,
    };

    /// <summary>The alert's context as the issue's description (plain text with a bullet list, readable as Markdown).</summary>
    private async Task<string> DescribeAsync(QualityAlert alert, CancellationToken ct)
    {
        var check = await db.QualityChecks.AsNoTracking().Where(c => c.Id == alert.CheckId)
            .Select(c => new { c.Name, c.Slug, c.CheckType }).SingleAsync(ct);
        var product = await db.Products.AsNoTracking().Where(p => p.Id == alert.ProductId)
            .Select(p => new { p.Name, p.Slug }).SingleAsync(ct);
        var execution = await db.CheckExecutions.AsNoTracking().Where(e => e.Id == alert.LastExecutionId)
            .Select(e => new { e.Id, e.Status, e.Metric, e.Total, e.Message, e.CompletedAt }).SingleOrDefaultAsync(ct);

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Created from quality alert \"{alert.Title}\" ({alert.Id}).\n\n");
        text.Append(CultureInfo.InvariantCulture, $"- Check: {check.Name} ({check.Slug}), type {check.CheckType}\n");
        text.Append(CultureInfo.InvariantCulture, $"- Product: {product.Name} ({product.Slug})\n");
        text.Append(CultureInfo.InvariantCulture,
            $"- Alert: severity {IssueService.Name(alert.Severity)}, status {IssueService.Name(alert.Status)}, raised on {IssueService.Name(alert.RaisedStatus)} at {Instant(alert.RaisedAt)}, {alert.Occurrences} occurrence{(alert.Occurrences == 1 ? "" : "s")}, last seen at {Instant(alert.LastSeenAt)}\n");
        if (alert.Message is not null) text.Append(CultureInfo.InvariantCulture, $"- Alert message: {alert.Message}\n");
        if (execution is null)
        {
            text.Append(CultureInfo.InvariantCulture, $"- Last execution: {alert.LastExecutionId} (no longer recorded)\n");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"- Last execution: {execution.Id}, status {IssueService.Name(execution.Status)}");
            if (execution.Metric is { } metric)
            {
                text.Append(CultureInfo.InvariantCulture, $", metric {metric.ToString("R", CultureInfo.InvariantCulture)}");
                if (execution.Total is { } total) text.Append(CultureInfo.InvariantCulture, $" of {total.ToString("R", CultureInfo.InvariantCulture)} rows");
            }
            if (execution.CompletedAt is { } completed) text.Append(CultureInfo.InvariantCulture, $", completed at {Instant(completed)}");
            text.Append('\n');
            if (execution.Message is not null) text.Append(CultureInfo.InvariantCulture, $"- Execution message: {execution.Message}\n");
        }
        var result = text.ToString();
        return result.Length <= IssueRules.DescriptionMax ? result : result[..(IssueRules.DescriptionMax - 1)] + "…";
    }

    private static string Instant(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void RequireOpen(QualityAlert alert, string action)
    {
        if (alert.Status == AlertStatus.Resolved)
            throw new ConflictException($"The alert is resolved; it cannot be {action}.", "alert_resolved");
    }

    private async Task<QualityAlert> FindAsync(SpaceContext space, Guid id, CancellationToken ct)
        => await db.QualityAlerts.SingleOrDefaultAsync(a => a.Id == id && a.SpaceId == space.SpaceId, ct)
           ?? throw new NotFoundException("Alert", id.ToString());

    private async Task<AlertResponse> GetInSpaceAsync(SpaceContext space, Guid id, CancellationToken ct)
        => await db.QualityAlerts.AsNoTracking().Where(a => a.Id == id && a.SpaceId == space.SpaceId).Select(Projection()).SingleOrDefaultAsync(ct)
           ?? throw new NotFoundException("Alert", id.ToString());

    private Expression<Func<QualityAlert, AlertResponse>> Projection() => a => new AlertResponse(
        a.Id, a.SpaceId, a.Status, a.Severity, a.Title, a.Message, a.RaisedStatus,
        db.QualityChecks.Where(c => c.Id == a.CheckId).Select(c => new AlertCheckRef(c.Id, c.Slug, c.Name, c.CheckType)).FirstOrDefault()!,
        db.Products.Where(p => p.Id == a.ProductId).Select(p => new AlertProductRef(p.Id, p.Slug, p.Name)).FirstOrDefault()!,
        a.RaisedByExecutionId, a.LastExecutionId, a.Occurrences, a.RaisedAt, a.LastSeenAt, a.AcknowledgedAt, a.AcknowledgedById,
        a.ResolvedAt, a.ResolvedById, a.AutoResolved, a.ResolutionNote, a.IssueId,
        db.AlertAnnotations.Where(n => n.AlertId == a.Id).OrderBy(n => n.CreatedAt).ThenBy(n => n.Id)
            .Select(n => new AnnotationResponse(n.Id, n.AlertId,
                db.Users.Where(u => u.Id == n.AuthorId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
                n.Body, n.CreatedAt)).ToList(),
        a.CreatedAt, a.UpdatedAt, a.Version);

    private Expression<Func<AlertAnnotation, AnnotationResponse>> AnnotationProjection() => n => new AnnotationResponse(
        n.Id, n.AlertId, db.Users.Where(u => u.Id == n.AuthorId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(), n.Body, n.CreatedAt);
}
