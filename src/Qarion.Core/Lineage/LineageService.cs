using Microsoft.EntityFrameworkCore;
using Npgsql;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Lineage;

/// <summary>
/// Lineage edges are managed from the downstream product (Editors of its space); the upstream may be in
/// any space the caller can see. Traversals are one recursive query each, depth-bounded and cycle-safe;
/// nodes in spaces the caller cannot see come back redacted.
/// </summary>
public sealed class LineageService(QarionDbContext db, CurrentUser me, SpaceAccess access, CatalogSupport catalog)
{
    public const int MaxDepth = Selector.Unbounded;
    public const int MaxNodes = 5000;

    public async Task<LineageEdgeResponse> AddUpstreamAsync(string spaceSlug, string productKey, AddUpstreamRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var downstream = await catalog.FindProductIdAsync(space, productKey, ct);
        await RequireVisibleUpstreamsAsync(downstream, [request.UpstreamId], i => ["body", "upstream_id"], ct);
        var edge = new LineageEdge
        {
            UpstreamId = request.UpstreamId, DownstreamId = downstream, SpaceId = space.SpaceId,
            Relationship = request.Relationship, CreatedById = me.Id,
        };
        db.LineageEdges.Add(edge);
        await db.SaveOrConflictAsync(ct, "This upstream edge already exists.");
        return ToResponse(edge);
    }

    public async Task RemoveUpstreamAsync(string spaceSlug, string productKey, Guid upstreamId, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var downstream = await catalog.FindProductIdAsync(space, productKey, ct);
        var edge = await db.LineageEdges.SingleOrDefaultAsync(e => e.DownstreamId == downstream && e.UpstreamId == upstreamId, ct)
                   ?? throw new NotFoundException("Lineage edge", upstreamId.ToString());
        db.LineageEdges.Remove(edge);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Replaces every upstream edge of the product in one transaction.</summary>
    public async Task<IReadOnlyList<LineageEdgeResponse>> ReplaceUpstreamAsync(string spaceSlug, string productKey, ReplaceUpstreamRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var downstream = await catalog.FindProductIdAsync(space, productKey, ct);
        var ids = request.Upstream.Select(u => u.UpstreamId).ToList();
        var duplicates = ids.Select((id, i) => (id, i)).Where(x => ids.IndexOf(x.id) != x.i)
            .Select(x => new FieldError(["body", "upstream", x.i, "upstream_id"], "listed twice", "duplicate")).ToList();
        if (duplicates.Count > 0) throw new RequestValidationException(duplicates);
        await RequireVisibleUpstreamsAsync(downstream, ids, i => ["body", "upstream", i, "upstream_id"], ct);

        var current = await db.LineageEdges.Where(e => e.DownstreamId == downstream).ToListAsync(ct);
        var wanted = request.Upstream.ToDictionary(u => u.UpstreamId);
        foreach (var edge in current)
        {
            if (!wanted.Remove(edge.UpstreamId, out var keep)) db.LineageEdges.Remove(edge);
            else edge.Relationship = keep.Relationship;
        }
        foreach (var add in wanted.Values)
            db.LineageEdges.Add(new LineageEdge
            {
                UpstreamId = add.UpstreamId, DownstreamId = downstream, SpaceId = space.SpaceId,
                Relationship = add.Relationship, CreatedById = me.Id,
            });
        await db.SaveOrConflictAsync(ct);
        return await db.LineageEdges.AsNoTracking().Where(e => e.DownstreamId == downstream)
            .OrderBy(e => e.CreatedAt).ThenBy(e => e.Id)
            .Select(e => new LineageEdgeResponse(e.Id, e.UpstreamId, e.DownstreamId, e.Relationship, e.CreatedAt))
            .ToListAsync(ct);
    }

    public async Task<LineageGraphResponse> TraverseAsync(string spaceSlug, string productKey, LineageDirection direction, int depth, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        if (depth is < 1 or > MaxDepth) throw RequestValidationException.For("query", "depth", $"must be 1 to {MaxDepth}", "less_than_equal");
        var root = await catalog.FindProductIdAsync(space, productKey, ct);
        var up = direction is LineageDirection.Upstream or LineageDirection.Both ? depth : 0;
        var down = direction is LineageDirection.Downstream or LineageDirection.Both ? depth : 0;
        var walked = await WalkAsync(root, up, down, ct);
        return await BuildGraphAsync([root], walked, ct);
    }

    /// <summary>The space's graph, or the part dbt-style selectors pick (a union of terms).</summary>
    public async Task<LineageGraphResponse> GraphAsync(string spaceSlug, string? select, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        if (string.IsNullOrWhiteSpace(select))
        {
            var ids = await db.Products.AsNoTracking().Where(p => p.SpaceId == space.SpaceId && !p.IsArchived)
                .OrderBy(p => p.Id).Select(p => p.Id).Take(MaxNodes + 1).ToListAsync(ct);
            var all = ids.Take(MaxNodes).ToDictionary(id => id, _ => (Up: (int?)null, Down: (int?)null));
            return await BuildGraphAsync([], all, ct, truncated: ids.Count > MaxNodes);
        }

        var selectors = Selector.ParseMany(select);
        var names = selectors.Select(s => s.Name).Distinct().ToList();
        var found = await db.Products.AsNoTracking()
            .Where(p => p.SpaceId == space.SpaceId && (names.Contains(p.Slug) || names.Contains(p.Name)))
            .Select(p => new { p.Id, p.Slug, p.Name }).ToListAsync(ct);
        var roots = new List<Guid>();
        var nodes = new Dictionary<Guid, (int? Up, int? Down)>();
        foreach (var selector in selectors)
        {
            var match = found.FirstOrDefault(p => p.Slug == selector.Name) ?? found.FirstOrDefault(p => p.Name == selector.Name)
                        ?? throw new NotFoundException("Data product", selector.Name);
            roots.Add(match.Id);
            foreach (var (id, depths) in await WalkAsync(match.Id, selector.Upstream, selector.Downstream, ct))
                nodes[id] = nodes.TryGetValue(id, out var seen) ? (Min(seen.Up, depths.Up), Min(seen.Down, depths.Down)) : depths;
        }
        return await BuildGraphAsync(roots.Distinct().ToList(), nodes, ct);
    }

    internal const string WalkSql = """
        WITH RECURSIVE
        up(id, depth) AS (
            SELECT @root, 0
            UNION
            SELECT e.upstream_id, up.depth + 1 FROM up JOIN lineage_edges e ON e.downstream_id = up.id WHERE up.depth < @up
        ),
        down(id, depth) AS (
            SELECT @root, 0
            UNION
            SELECT e.downstream_id, down.depth + 1 FROM down JOIN lineage_edges e ON e.upstream_id = down.id WHERE down.depth < @down
        )
        SELECT id, min(depth) AS depth, 0 AS dir FROM up GROUP BY id
        UNION ALL
        SELECT id, min(depth), 1 FROM down GROUP BY id
        LIMIT @limit
        """;

    /// <summary>
    /// One recursive query per direction. UNION over (id, depth) makes cycles harmless: a node seen again
    /// can only come back at a greater depth, and the depth bound ends the recursion.
    /// </summary>
    private async Task<Dictionary<Guid, (int? Up, int? Down)>> WalkAsync(Guid root, int up, int down, CancellationToken ct)
    {
        var result = new Dictionary<Guid, (int? Up, int? Down)>();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand(WalkSql, connection);
            command.Parameters.AddWithValue("root", root);
            command.Parameters.AddWithValue("up", up);
            command.Parameters.AddWithValue("down", down);
            command.Parameters.AddWithValue("limit", (MaxNodes + 1) * 2);
            // Prepared once per pooled connection: the walk plans in about as long as it runs
            // (explicitly: auto-prepare is off, docs/decisions/0008-npgsql-auto-prepare.md).
            await command.PrepareAsync(ct);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetGuid(0);
                var depth = reader.GetInt32(1);
                var upward = reader.GetInt32(2) == 0;
                var seen = result.GetValueOrDefault(id);
                result[id] = upward ? (depth, seen.Down) : (seen.Up, depth);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        // Depth 0 is the root itself in both walks.
        if (result.TryGetValue(root, out var r)) result[root] = (up > 0 ? 0 : r.Up, down > 0 ? 0 : r.Down);
        return result;
    }

    private async Task<LineageGraphResponse> BuildGraphAsync(IReadOnlyList<Guid> roots, Dictionary<Guid, (int? Up, int? Down)> nodes, CancellationToken ct, bool truncated = false)
    {
        if (nodes.Count > MaxNodes)
        {
            truncated = true;
            nodes = nodes.OrderBy(n => Math.Min(n.Value.Up ?? int.MaxValue, n.Value.Down ?? int.MaxValue)).Take(MaxNodes).ToDictionary();
        }
        var ids = nodes.Keys.ToList();
        var caller = me.RequireId();
        var superadmin = me.IsSuperadmin;
        var products = await db.Products.AsNoTracking().Where(p => ids.Contains(p.Id))
            .Select(p => new
            {
                p.Id, SpaceSlug = p.Space.Slug, p.Slug, p.Name, p.ProductType, p.IsArchived,
                Visible = superadmin || p.Space.Memberships.Any(m => m.UserId == caller),
            })
            .ToListAsync(ct);
        var edges = await db.LineageEdges.AsNoTracking()
            .Where(e => ids.Contains(e.UpstreamId) && ids.Contains(e.DownstreamId))
            .OrderBy(e => e.Id)
            .Select(e => new LineageEdgeResponse(e.Id, e.UpstreamId, e.DownstreamId, e.Relationship, e.CreatedAt))
            .ToListAsync(ct);
        var graphNodes = products
            .OrderBy(p => p.Visible ? 0 : 1).ThenBy(p => p.SpaceSlug).ThenBy(p => p.Name).ThenBy(p => p.Id)
            .Select(p => p.Visible
                ? new LineageNode(p.Id, false, p.SpaceSlug, p.Slug, p.Name, p.ProductType, p.IsArchived, nodes[p.Id].Up, nodes[p.Id].Down)
                : new LineageNode(p.Id, true))
            .ToList();
        return new LineageGraphResponse(roots, graphNodes, edges, truncated);
    }

    /// <summary>Each upstream must exist in a space the caller can see (422 naming it otherwise) and differ from the product.</summary>
    private async Task RequireVisibleUpstreamsAsync(Guid downstream, List<Guid> upstreamIds, Func<int, object[]> loc, CancellationToken ct)
    {
        var caller = me.RequireId();
        var superadmin = me.IsSuperadmin;
        var visible = await db.Products.AsNoTracking()
            .Where(p => upstreamIds.Contains(p.Id) && (superadmin || p.Space.Memberships.Any(m => m.UserId == caller)))
            .Select(p => p.Id).ToListAsync(ct);
        var errors = new List<FieldError>();
        for (var i = 0; i < upstreamIds.Count; i++)
        {
            if (upstreamIds[i] == downstream) errors.Add(new FieldError(loc(i), "a product cannot be its own upstream", "self_edge"));
            else if (!visible.Contains(upstreamIds[i])) errors.Add(new FieldError(loc(i), "no such data product", "not_found"));
        }
        if (errors.Count > 0) throw new RequestValidationException(errors);
    }

    private static int? Min(int? a, int? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private static LineageEdgeResponse ToResponse(LineageEdge e) => new(e.Id, e.UpstreamId, e.DownstreamId, e.Relationship, e.CreatedAt);
}
