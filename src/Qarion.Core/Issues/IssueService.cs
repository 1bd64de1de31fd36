using System.Globalization;
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Issues;

/// <summary>
/// Issues of a space: Viewers read them, Editors create, change, link and comment; the reporter or an Admin deletes.
/// Every change writes its <see cref="IssueEvent"/> (and its outbox events) in the transaction of the change.
/// </summary>
public sealed class IssueService(QarionDbContext db, CurrentUser me, SpaceAccess access, TimeProvider clock)
{
    public static readonly IReadOnlyList<string> SortOptions = ["newest", "oldest", "priority", "updated"];

    /// <summary>The event kinds of an issue's history.</summary>
    public static class Kinds
    {
        public const string Created = "created";
        public const string Status = "status";
        public const string Priority = "priority";
        public const string Assignee = "assignee";
        public const string Title = "title";
        public const string Description = "description";
        public const string Comment = "comment";
        public const string ProductLinked = "product_linked";
        public const string ProductUnlinked = "product_unlinked";
    }

    private const int EventValueMax = 4000;

    // ───────────── issues ─────────────

    public async Task<IssueResponse> CreateAsync(string spaceSlug, CreateIssueRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        await RequireAssigneeAsync(space, request.AssigneeId, ct);
        var productIds = await RequireProductsAsync(space, request.ProductIds ?? [], "product_ids", ct);
        var issue = new Issue
        {
            SpaceId = space.SpaceId,
            Title = request.Title.Trim(),
            Description = request.Description,
            Priority = request.Priority ?? IssuePriority.Medium,
            AssigneeId = request.AssigneeId,
            ReporterId = me.Id,
        };
        await CreateInSpaceAsync(space, issue, productIds, ct);
        return await GetByIdAsync(issue.Id, ct);
    }

    /// <summary>
    /// Adds <paramref name="issue"/> with the next number of its space, its product links, its <c>created</c> event
    /// and its outbox events, and saves — in the caller's transaction when there is one (plus whatever else the
    /// caller has changed in the context), else in a transaction of its own.
    /// </summary>
    internal async Task CreateInSpaceAsync(SpaceContext space, Issue issue, IReadOnlyList<Guid> productIds, CancellationToken ct)
    {
        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            issue.Number = await NextNumberAsync(space.SpaceId, ct);
            db.Issues.Add(issue);
            var now = clock.GetUtcNow();
            foreach (var productId in productIds)
                db.IssueProducts.Add(new IssueProduct { IssueId = issue.Id, ProductId = productId, CreatedAt = now });
            AddEvent(issue, Kinds.Created, null, issue.Title);
            db.AddOutboxEvent(space.SpaceId, OutboxEventTypes.IssueCreated, Payload(issue, productIds));
            if (issue.AssigneeId is not null) db.AddOutboxEvent(space.SpaceId, OutboxEventTypes.IssueAssigned, Payload(issue, productIds));
            await db.SaveOrConflictAsync(ct, "Another issue took this number; try again.");
            if (own is not null) await own.CommitAsync(ct);
        }
        finally
        {
            if (own is not null) await own.DisposeAsync();
        }
    }

    /// <summary>
    /// The space's next issue number. The space row is locked (FOR NO KEY UPDATE: it serialises issue creation in
    /// the space but, unlike FOR UPDATE, does not block inserts elsewhere that reference the space) until the
    /// transaction ends, so two creates never read the same maximum.
    /// </summary>
    private async Task<int> NextNumberAsync(Guid spaceId, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM spaces WHERE id = {spaceId} FOR NO KEY UPDATE", ct);
        var max = await db.Issues.Where(i => i.SpaceId == spaceId).MaxAsync(i => (int?)i.Number, ct);
        return (max ?? 0) + 1;
    }

    public async Task<IssueResponse> GetAsync(string spaceSlug, string key, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var id = await ByKey(db.Issues.AsNoTracking(), space, key).Select(i => (Guid?)i.Id).SingleOrDefaultAsync(ct)
                 ?? throw new NotFoundException("Issue", key);
        return await GetByIdAsync(id, ct);
    }

    public async Task<Paged<IssueSummary>> ListAsync(string spaceSlug, IssueListQuery query, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        if (!SortOptions.Contains(query.Sort))
            throw RequestValidationException.For("query", "sort", "must be one of: " + string.Join(", ", SortOptions), "enum");
        if (query.From is { } from && query.To is { } to && to <= from)
            throw RequestValidationException.For("query", "to", "must be after from", "value_error");

        var issues = db.Issues.AsNoTracking().Where(i => i.SpaceId == space.SpaceId);
        if (query.Status is { } status) issues = issues.Where(i => i.Status == status);
        if (query.Priority is { } priority) issues = issues.Where(i => i.Priority == priority);
        if (query.AssigneeId is { } assignee) issues = issues.Where(i => i.AssigneeId == assignee);
        if (query.ReporterId is { } reporter) issues = issues.Where(i => i.ReporterId == reporter);
        if (query.ProductId is { } product) issues = issues.Where(i => db.IssueProducts.Any(ip => ip.IssueId == i.Id && ip.ProductId == product));
        if (query.From is { } f) issues = issues.Where(i => i.CreatedAt >= f);
        if (query.To is { } t) issues = issues.Where(i => i.CreatedAt < t);
        if (!string.IsNullOrWhiteSpace(query.Q))
        {
            var pattern = Text.ContainsPattern(query.Q.Trim());
            issues = issues.Where(i => EF.Functions.ILike(i.Title, pattern, "\\"));
        }

        issues = query.Sort switch
        {
            "oldest" => issues.OrderBy(i => i.Number),
            // Priority is stored as text: rank it explicitly (critical first), newest first within a rank.
            "priority" => issues.OrderByDescending(i => i.Priority == IssuePriority.Critical ? 4 : i.Priority == IssuePriority.High ? 3 : i.Priority == IssuePriority.Medium ? 2 : 1)
                .ThenByDescending(i => i.Number),
            "updated" => issues.OrderByDescending(i => i.UpdatedAt).ThenByDescending(i => i.Number),
            _ => issues.OrderByDescending(i => i.Number),
        };
        return await issues.Select(i => new IssueSummary(
            i.Id, i.Number, i.Title, i.Status, i.Priority,
            db.Users.Where(u => u.Id == i.AssigneeId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
            i.ReporterId, i.AlertId,
            db.Products.Where(p => db.IssueProducts.Any(ip => ip.IssueId == i.Id && ip.ProductId == p.Id))
                .OrderBy(p => p.Name).ThenBy(p => p.Id).Select(p => new IssueProductRef(p.Id, p.Slug, p.Name)).ToList(),
            i.ResolvedAt, i.CreatedAt, i.UpdatedAt, i.Version)).ToPageAsync(page, ct);
    }

    public async Task<IssueResponse> UpdateAsync(string spaceSlug, string key, UpdateIssueRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var issue = await FindAsync(space, key, ct);
        Concurrency.ExpectVersion(db, issue, ifMatch ?? request.Version);
        if (request.AssigneeId.IsSet) await RequireAssigneeAsync(space, request.AssigneeId.Value, ct);
        if (request.Status.IsSet) RequireTransition(issue.Status, request.Status.Value);

        var assigned = false;
        var resolved = false;
        if (request.Title.IsSet && request.Title.Value.Trim() != issue.Title)
        {
            AddEvent(issue, Kinds.Title, issue.Title, request.Title.Value.Trim());
            issue.Title = request.Title.Value.Trim();
        }
        if (request.Description.IsSet && request.Description.Value != issue.Description)
        {
            AddEvent(issue, Kinds.Description, issue.Description, request.Description.Value);
            issue.Description = request.Description.Value;
        }
        if (request.Priority.IsSet && request.Priority.Value != issue.Priority)
        {
            AddEvent(issue, Kinds.Priority, Name(issue.Priority), Name(request.Priority.Value));
            issue.Priority = request.Priority.Value;
        }
        if (request.AssigneeId.IsSet && request.AssigneeId.Value != issue.AssigneeId)
        {
            AddEvent(issue, Kinds.Assignee, issue.AssigneeId?.ToString(), request.AssigneeId.Value?.ToString());
            issue.AssigneeId = request.AssigneeId.Value;
            assigned = issue.AssigneeId is not null;
        }
        if (request.Status.IsSet && request.Status.Value != issue.Status)
        {
            AddEvent(issue, Kinds.Status, Name(issue.Status), Name(request.Status.Value));
            issue.Status = request.Status.Value;
            issue.ResolvedAt = issue.Status == IssueStatus.Resolved ? clock.GetUtcNow() : null;
            resolved = issue.Status == IssueStatus.Resolved;
        }

        if (assigned || resolved)
        {
            var payload = Payload(issue, await ProductIdsAsync(issue.Id, ct));
            if (assigned) db.AddOutboxEvent(space.SpaceId, OutboxEventTypes.IssueAssigned, payload);
            if (resolved) db.AddOutboxEvent(space.SpaceId, OutboxEventTypes.IssueResolved, payload);
        }
        if (db.ChangeTracker.HasChanges()) await db.SaveOrConflictAsync(ct);
        return await GetByIdAsync(issue.Id, ct);
    }

    /// <summary>The reporter (still an Editor) or an Admin deletes; comments, history and links go with it; alerts forget it.</summary>
    public async Task DeleteAsync(string spaceSlug, string key, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var issue = await FindAsync(space, key, ct);
        if (space.Role < SpaceRole.Admin && issue.ReporterId != me.Id)
            throw new ForbiddenException("Only the issue's reporter or an admin of the space may delete it.");
        Concurrency.ExpectVersion(db, issue, ifMatch);
        foreach (var alert in await db.QualityAlerts.Where(a => a.SpaceId == space.SpaceId && a.IssueId == issue.Id).ToListAsync(ct))
            alert.IssueId = null;
        db.Issues.Remove(issue);
        await db.SaveOrConflictAsync(ct);
    }

    // ───────────── linked products ─────────────

    /// <summary>Links a product of the space (Editor); linking a linked product changes nothing.</summary>
    public async Task<IReadOnlyList<IssueProductRef>> LinkProductAsync(string spaceSlug, string key, LinkProductRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var issue = await FindAsync(space, key, ct);
        var productId = (await RequireProductsAsync(space, [request.ProductId], "product_id", ct))[0];
        if (!await db.IssueProducts.AnyAsync(ip => ip.IssueId == issue.Id && ip.ProductId == productId, ct))
        {
            db.IssueProducts.Add(new IssueProduct { IssueId = issue.Id, ProductId = productId, CreatedAt = clock.GetUtcNow() });
            AddEvent(issue, Kinds.ProductLinked, null, productId.ToString());
            await db.SaveOrConflictAsync(ct, "The product is already linked.");
        }
        return await ProductsOfAsync(issue.Id, ct);
    }

    public async Task UnlinkProductAsync(string spaceSlug, string key, Guid productId, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var issue = await FindAsync(space, key, ct);
        var link = await db.IssueProducts.SingleOrDefaultAsync(ip => ip.IssueId == issue.Id && ip.ProductId == productId, ct)
                   ?? throw new NotFoundException("Product linked to this issue", productId.ToString());
        db.IssueProducts.Remove(link);
        AddEvent(issue, Kinds.ProductUnlinked, productId.ToString(), null);
        await db.SaveOrConflictAsync(ct);
    }

    // ───────────── comments ─────────────

    public async Task<CommentResponse> AddCommentAsync(string spaceSlug, string key, CommentRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var issue = await FindAsync(space, key, ct);
        var comment = new IssueComment { IssueId = issue.Id, SpaceId = space.SpaceId, AuthorId = me.Id, Body = request.Body };
        db.IssueComments.Add(comment);
        AddEvent(issue, Kinds.Comment, null, request.Body);
        await AddMentionEventAsync(space, issue, comment, Mentions.Emails(request.Body), ct);
        await db.SaveOrConflictAsync(ct);
        return await CommentAsync(comment.Id, ct);
    }

    public async Task<Paged<CommentResponse>> ListCommentsAsync(string spaceSlug, string key, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var issueId = await IdAsync(space, key, ct);
        return await db.IssueComments.AsNoTracking().Where(c => c.IssueId == issueId)
            .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Select(CommentProjection()).ToPageAsync(page, ct);
    }

    /// <summary>Only the author edits a comment (an Admin may delete it, never put words in someone's mouth).</summary>
    public async Task<CommentResponse> EditCommentAsync(string spaceSlug, string key, Guid commentId, CommentRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var issue = await FindAsync(space, key, ct);
        var comment = await FindCommentAsync(issue, commentId, ct);
        if (comment.AuthorId != me.Id) throw new ForbiddenException("Only the comment's author may edit it.");
        if (comment.Body != request.Body)
        {
            AddEvent(issue, Kinds.Comment, comment.Body, request.Body);
            // Only those newly mentioned by the edit are told; the others were told when first mentioned.
            await AddMentionEventAsync(space, issue, comment, Mentions.Emails(request.Body).Except(Mentions.Emails(comment.Body)).ToList(), ct);
            comment.Body = request.Body;
            await db.SaveOrConflictAsync(ct);
        }
        return await CommentAsync(comment.Id, ct);
    }

    public async Task DeleteCommentAsync(string spaceSlug, string key, Guid commentId, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var issue = await FindAsync(space, key, ct);
        var comment = await FindCommentAsync(issue, commentId, ct);
        if (comment.AuthorId != me.Id && space.Role < SpaceRole.Admin)
            throw new ForbiddenException("Only the comment's author or an admin of the space may delete it.");
        AddEvent(issue, Kinds.Comment, comment.Body, null);
        db.IssueComments.Remove(comment);
        await db.SaveOrConflictAsync(ct);
    }

    // ───────────── history ─────────────

    public async Task<Paged<IssueEventResponse>> HistoryAsync(string spaceSlug, string key, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var issueId = await IdAsync(space, key, ct);
        return await db.IssueEvents.AsNoTracking().Where(e => e.IssueId == issueId)
            .OrderBy(e => e.OccurredAt).ThenBy(e => e.Id)
            .Select(e => new IssueEventResponse(e.Id, e.Kind, e.OldValue, e.NewValue,
                db.Users.Where(u => u.Id == e.ActorId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
                e.OccurredAt))
            .ToPageAsync(page, ct);
    }

    // ───────────── helpers ─────────────

    internal async Task<IssueResponse> GetByIdAsync(Guid id, CancellationToken ct)
        => await db.Issues.AsNoTracking().Where(i => i.Id == id).Select(Projection()).SingleAsync(ct);

    private Expression<Func<Issue, IssueResponse>> Projection() => i => new IssueResponse(
        i.Id, i.SpaceId, i.Number, i.Title, i.Description, i.Status, i.Priority,
        db.Users.Where(u => u.Id == i.AssigneeId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
        db.Users.Where(u => u.Id == i.ReporterId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
        i.AlertId, i.CheckId,
        db.Products.Where(p => db.IssueProducts.Any(ip => ip.IssueId == i.Id && ip.ProductId == p.Id))
            .OrderBy(p => p.Name).ThenBy(p => p.Id).Select(p => new IssueProductRef(p.Id, p.Slug, p.Name)).ToList(),
        db.IssueComments.Count(c => c.IssueId == i.Id),
        i.ResolvedAt, i.CreatedAt, i.UpdatedAt, i.Version);

    private Expression<Func<IssueComment, CommentResponse>> CommentProjection() => c => new CommentResponse(
        c.Id, c.IssueId,
        db.Users.Where(u => u.Id == c.AuthorId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
        c.Body, c.UpdatedAt != c.CreatedAt, c.CreatedAt, c.UpdatedAt);

    private async Task<CommentResponse> CommentAsync(Guid id, CancellationToken ct)
        => await db.IssueComments.AsNoTracking().Where(c => c.Id == id).Select(CommentProjection()).SingleAsync(ct);

    private async Task<IssueComment> FindCommentAsync(Issue issue, Guid commentId, CancellationToken ct)
        => await db.IssueComments.SingleOrDefaultAsync(c => c.Id == commentId && c.IssueId == issue.Id, ct)
           ?? throw new NotFoundException("Comment", commentId.ToString());

    private async Task<IReadOnlyList<IssueProductRef>> ProductsOfAsync(Guid issueId, CancellationToken ct)
        => await db.Products.AsNoTracking().Where(p => db.IssueProducts.Any(ip => ip.IssueId == issueId && ip.ProductId == p.Id))
            .OrderBy(p => p.Name).ThenBy(p => p.Id).Select(p => new IssueProductRef(p.Id, p.Slug, p.Name)).ToListAsync(ct);

    private async Task<List<Guid>> ProductIdsAsync(Guid issueId, CancellationToken ct)
        => await db.IssueProducts.AsNoTracking().Where(ip => ip.IssueId == issueId).OrderBy(ip => ip.ProductId).Select(ip => ip.ProductId).ToListAsync(ct);

    /// <summary>An issue of the space by id, or by number (<c>12</c> or <c>#12</c>); anything else is not found.</summary>
    private static IQueryable<Issue> ByKey(IQueryable<Issue> issues, SpaceContext space, string key)
    {
        issues = issues.Where(i => i.SpaceId == space.SpaceId);
        if (Guid.TryParse(key, out var id)) return issues.Where(i => i.Id == id);
        var number = key.StartsWith('#') ? key[1..] : key;
        return int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? issues.Where(i => i.Number == n)
            : issues.Where(_ => false);
    }

    private async Task<Issue> FindAsync(SpaceContext space, string key, CancellationToken ct)
        => await ByKey(db.Issues, space, key).SingleOrDefaultAsync(ct) ?? throw new NotFoundException("Issue", key);

    private async Task<Guid> IdAsync(SpaceContext space, string key, CancellationToken ct)
        => await ByKey(db.Issues.AsNoTracking(), space, key).Select(i => (Guid?)i.Id).SingleOrDefaultAsync(ct)
           ?? throw new NotFoundException("Issue", key);

    private async Task RequireAssigneeAsync(SpaceContext space, Guid? assigneeId, CancellationToken ct)
    {
        if (assigneeId is not { } id) return;
        if (!await db.SpaceMemberships.AnyAsync(m => m.SpaceId == space.SpaceId && m.UserId == id, ct))
            throw RequestValidationException.For("body", "assignee_id", "must be a member of the space", "not_a_member");
    }

    /// <summary>Product ids of the space, each checked (422 at its index otherwise), duplicates dropped.</summary>
    internal async Task<List<Guid>> RequireProductsAsync(SpaceContext space, IReadOnlyList<Guid> productIds, string field, CancellationToken ct)
    {
        if (productIds.Count == 0) return [];
        var distinct = productIds.Distinct().ToList();
        var found = await db.Products.AsNoTracking().Where(p => p.SpaceId == space.SpaceId && distinct.Contains(p.Id)).Select(p => p.Id).ToListAsync(ct);
        var errors = productIds.Select((id, i) => (id, i)).Where(x => !found.Contains(x.id))
            .Select(x => new FieldError(field == "product_id" ? ["body", field] : ["body", field, x.i], "unknown product in this space", "unknown_product")).ToList();
        if (errors.Count > 0) throw new RequestValidationException(errors);
        return distinct;
    }

    /// <summary>
    /// open → in_progress → resolved, open → resolved, in_progress → open, resolved → open (reopen). A resolved issue
    /// is reopened before work restarts on it: resolved → in_progress is refused.
    /// </summary>
    private static void RequireTransition(IssueStatus from, IssueStatus to)
    {
        if (from == to) return;
        var allowed = (from, to) switch
        {
            (IssueStatus.Open, IssueStatus.InProgress) or (IssueStatus.Open, IssueStatus.Resolved) => true,
            (IssueStatus.InProgress, IssueStatus.Resolved) or (IssueStatus.InProgress, IssueStatus.Open) => true,
            (IssueStatus.Resolved, IssueStatus.Open) => true,
            _ => false,
        };
        if (!allowed)
            throw RequestValidationException.For("body", "status",
                $"an issue cannot go from {Name(from)} to {Name(to)}" + (from == IssueStatus.Resolved ? "; reopen it (status open) first" : ""), "invalid_transition");
    }

    private void AddEvent(Issue issue, string kind, string? oldValue, string? newValue)
        => db.IssueEvents.Add(new IssueEvent
        {
            IssueId = issue.Id, SpaceId = issue.SpaceId, ActorId = me.Id, Kind = kind,
            OldValue = Cut(oldValue), NewValue = Cut(newValue), OccurredAt = clock.GetUtcNow(),
        });

    /// <summary>Event values are at most 4000 characters: longer text is cut (never inside a surrogate pair) and ends in an ellipsis.</summary>
    private static string? Cut(string? value)
    {
        if (value is not { Length: > EventValueMax }) return value;
        var end = EventValueMax - 1;
        if (char.IsHighSurrogate(value[end - 1])) end--;
        return value[..end] + "…";
    }

    internal static string Name<T>(T value) where T : struct, Enum => JsonNames.ToSnakeCase(value.ToString());

    private IssueEventPayload Payload(Issue issue, IReadOnlyList<Guid> productIds)
        => new(issue.Id, issue.Number, issue.Title, issue.SpaceId, productIds, issue.AssigneeId, me.Id, issue.Status, issue.Priority, issue.AlertId);

    /// <summary>
    /// issue.comment.mentioned for the members of the space the comment mentions as <c>@email</c> (not the author),
    /// in the comment's unit of work. Mentions of non-members are ignored.
    /// </summary>
    private async Task AddMentionEventAsync(SpaceContext space, Issue issue, IssueComment comment, IReadOnlyCollection<string> emails, CancellationToken ct)
    {
        if (emails.Count == 0) return;
        var mentioned = await db.SpaceMemberships.AsNoTracking()
            .Where(m => m.SpaceId == space.SpaceId && emails.Contains(m.User.Email) && m.UserId != me.Id)
            .OrderBy(m => m.UserId).Select(m => m.UserId).ToListAsync(ct);
        if (mentioned.Count == 0) return;
        db.AddOutboxEvent(space.SpaceId, OutboxEventTypes.IssueCommentMention, new
        {
            IssueId = issue.Id,
            issue.Number,
            issue.Title,
            CommentId = comment.Id,
            MentionedUserIds = mentioned,
            ActorId = me.Id,
            AuthorName = me.DisplayName,
            Excerpt = comment.Body.Length > 280 ? comment.Body[..279] + "…" : comment.Body,
            Space = space.Slug,
            Link = $"/spaces/{space.Slug}/issues/{issue.Number}",
        });
    }
}

/// <summary>Mention syntax in comments: <c>@</c> followed by a user's e-mail, e.g. <c>@alice@example.com</c>.</summary>
public static partial class Mentions
{
    [System.Text.RegularExpressions.GeneratedRegex(@"(?<![\w@])@([A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")]
    private static partial System.Text.RegularExpressions.Regex Pattern();

    /// <summary>The mentioned e-mails, lower-cased (users' e-mails are stored lower-cased), distinct, trailing dots dropped.</summary>
    public static IReadOnlyList<string> Emails(string? text)
        => text is null ? [] : Pattern().Matches(text).Select(m => m.Groups[1].Value.TrimEnd('.').ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
}
