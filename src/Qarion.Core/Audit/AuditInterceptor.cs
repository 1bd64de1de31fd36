using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;

namespace Qarion.Core.Audit;

/// <summary>
/// Writes one <see cref="AuditEntry"/> per created, updated or deleted <see cref="IAudited"/> entity into the
/// same SaveChanges, hence the same transaction: a change and its audit entry commit or fail together.
/// Scoped: it knows the invocation's <see cref="CurrentUser"/>. Bulk paths that bypass the change tracker
/// (ExecuteUpdate, COPY) must write their own entries.
/// </summary>
public sealed class AuditInterceptor(CurrentUser user) : SaveChangesInterceptor
{
    /// <summary>Never recorded: secrets, and bookkeeping that changes on every write.</summary>
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "SecretHash", "Version", "UpdatedAt", "CreatedAt", "LastUsedAt", "ManualAttributes",
        // Scheduling and run bookkeeping (a check run or a scheduler tick is not an edit).
        "NextRunAt", "LastStatus", "LastRunAt",
    };

    /// <summary>Secrets: the log says whether one was set or changed, never its value (not even encrypted).</summary>
    private static readonly HashSet<string> Redacted = new(StringComparer.Ordinal) { "EncryptedCredentials" };

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is QarionDbContext db) Record(db);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is QarionDbContext db) Record(db);
        return ValueTask.FromResult(result);
    }

    private void Record(QarionDbContext db)
    {
        db.ChangeTracker.DetectChanges();
        var now = db.Clock.GetUtcNow();
        var entries = new List<AuditEntry>();
        foreach (var entry in db.ChangeTracker.Entries<IAudited>())
        {
            var audit = entry.State switch
            {
                EntityState.Added => Describe(entry, "create", e => e.Properties.Where(Recorded).ToDictionary(p => p.Metadata.Name, p => (object?)null, p => p.CurrentValue)),
                EntityState.Deleted => Describe(entry, "delete", e => e.Properties.Where(Recorded).ToDictionary(p => p.Metadata.Name, p => p.OriginalValue, p => (object?)null)),
                EntityState.Modified => DescribeUpdate(entry),
                _ => null,
            };
            if (audit is not null) entries.Add(audit);
        }
        entries.AddRange(DescribeTagging(db));
        foreach (var entry in entries) entry.OccurredAt = now;
        db.AuditLog.AddRange(entries);
    }

    /// <summary>
    /// Tagging is a change of the product: one "update" entry per product whose tag links were added or
    /// removed, with <c>{"tag_ids": {"added": [...], "removed": [...]}}</c>. A product being created or deleted
    /// in the same save is already described by its own entry.
    /// </summary>
    private IEnumerable<AuditEntry> DescribeTagging(QarionDbContext db)
    {
        var links = db.ChangeTracker.Entries<Catalog.ProductTag>()
            .Where(e => e.State is EntityState.Added or EntityState.Deleted)
            .GroupBy(e => e.Entity.ProductId);
        foreach (var group in links)
        {
            var product = db.ChangeTracker.Entries<Catalog.DataProduct>().FirstOrDefault(p => p.Entity.Id == group.Key);
            if (product is null || product.State is EntityState.Added or EntityState.Deleted) continue;
            var change = new JsonObject
            {
                ["added"] = JsonSerializer.SerializeToNode(group.Where(e => e.State == EntityState.Added).Select(e => e.Entity.TagId).Order().ToList()),
                ["removed"] = JsonSerializer.SerializeToNode(group.Where(e => e.State == EntityState.Deleted).Select(e => e.Entity.TagId).Order().ToList()),
            };
            yield return new AuditEntry
            {
                SpaceId = product.Entity.SpaceId,
                ActorUserId = user.Id,
                ActorApiKeyId = user.ApiKeyId,
                Action = "update",
                ResourceType = "data_product",
                ResourceId = product.Entity.Id,
                ResourceName = product.Entity.Name,
                Changes = new JsonObject { ["tag_ids"] = change }.ToJsonString(),
            };
        }
    }

    private AuditEntry? DescribeUpdate(EntityEntry<IAudited> entry)
    {
        var changed = entry.Properties
            .Where(p => Recorded(p) && p.IsModified && !Equals(p.OriginalValue, p.CurrentValue))
            .ToList();
        if (changed.Count == 0) return null;
        var action = "update";
        if (changed.All(p => p.Metadata.Name is "IsArchived" or "ArchivedAt"))
            action = (bool)entry.Property("IsArchived").CurrentValue! ? "archive" : "unarchive";
        return Describe(entry, action, _ => changed.ToDictionary(p => p.Metadata.Name, p => p.OriginalValue, p => p.CurrentValue));
    }

    private AuditEntry Describe(EntityEntry<IAudited> entry, string action, Func<EntityEntry<IAudited>, Dictionary<string, (object? Before, object? After)>> changes)
    {
        var entity = entry.Entity;
        var json = new JsonObject();
        foreach (var (property, (before, after)) in changes(entry))
        {
            json[JsonNames.ToSnakeCase(property)] = new JsonObject
            {
                ["before"] = JsonSerializer.SerializeToNode(Redacted.Contains(property) && before is not null ? "(redacted)" : before, Json),
                ["after"] = JsonSerializer.SerializeToNode(Redacted.Contains(property) && after is not null ? "(redacted)" : after, Json),
            };
        }
        var name = entity.AuditName;
        return new AuditEntry
        {
            SpaceId = entity.AuditSpaceId,
            ActorUserId = user.Id,
            ActorApiKeyId = user.ApiKeyId,
            Action = action,
            ResourceType = JsonNames.ToSnakeCase(entry.Metadata.ClrType.Name),
            ResourceId = entity.Id,
            ResourceName = name.Length > 400 ? name[..400] : name,
            Changes = json.ToJsonString(),
        };
    }

    private static bool Recorded(PropertyEntry property)
        => !Ignored.Contains(property.Metadata.Name) && !property.Metadata.IsShadowProperty();
}

internal static class DictionaryExtensions
{
    public static Dictionary<string, (object? Before, object? After)> ToDictionary<T>(
        this IEnumerable<T> source, Func<T, string> key, Func<T, object?> before, Func<T, object?> after) where T : notnull
        => Enumerable.ToDictionary(source, key, p => (before(p), after(p)));
}
