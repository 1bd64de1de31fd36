namespace Qarion.Benchmarks;

/// <summary>
/// The SQL each operation must at least run.
/// </summary>
internal static class BareSql
{
    public static string ListWhere(bool tag, bool search) =>
        "p.space_id = @space AND NOT p.is_archived"
        + (tag ? " AND EXISTS (SELECT 1 FROM product_tags pt WHERE pt.product_id = p.id AND pt.tag_id = @tag)" : "")
        + (search ? " AND (p.name ILIKE @pattern ESCAPE '\\' OR p.slug ILIKE @pattern ESCAPE '\\' OR (p.description IS NOT NULL AND p.description ILIKE @pattern ESCAPE '\\'))" : "");

    public static string ListCount(bool tag, bool search) => $"SELECT count(*)::int FROM data_products p WHERE {ListWhere(tag, search)}";

    /// <summary>The page's ids first (index-only, however deep), then those rows and their tags.</summary>
    public static string ListPage(bool tag, bool search) => $"""
        SELECT p.id, p.slug, p.name, p.description, p.product_type, p.hosting_location, p.criticality, p.sensitivity,
               p.owner_id, p.is_archived, p.is_stale, p.updated_at, p.xmin,
               ARRAY(SELECT t.name FROM product_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.product_id = p.id ORDER BY t.name) AS tags
        FROM data_products p
        WHERE p.id IN (
            SELECT p.id FROM data_products p
            WHERE {ListWhere(tag, search)}
            ORDER BY p.name, p.id
            LIMIT @limit OFFSET @offset)
        ORDER BY p.name, p.id
        """;

    // The search and lineage statements are Qarion.Core's own constants, so the bare run executes exactly
    // the SQL the services send (with Core's parameters), minus everything around it.
    public const string SearchProducts = Qarion.Core.Search.SearchService.ProductSql;
    public const string SearchFields = Qarion.Core.Search.SearchService.FieldSql;
    public const string SearchTags = Qarion.Core.Search.SearchService.TagSql;
    public const string LineageWalk = Qarion.Core.Lineage.LineageService.WalkSql;
}
