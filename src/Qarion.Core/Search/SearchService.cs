using Npgsql;
using Qarion.Core.Common;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;
using Microsoft.EntityFrameworkCore;

namespace Qarion.Core.Search;

public sealed record ProductHit(Guid Id, string Slug, string Name, string ProductType, double Score, string NameHighlight, string? Snippet);

public sealed record FieldHit(Guid Id, string Name, string? DataType, Guid ProductId, string ProductSlug, string ProductName, double Score, string? Snippet);

public sealed record TagHit(Guid Id, string Name, int UsageCount, double Score);

public sealed record SearchResponse(string Query, IReadOnlyList<ProductHit> Products, IReadOnlyList<FieldHit> Fields, IReadOnlyList<TagHit> Tags);

/// <summary>
/// Space-scoped search: PostgreSQL full-text search over weighted documents (name A, description and tags B,
/// fields C, documentation D) plus trigram word similarity on names for typos, served by GIN indexes.
/// Score = full-text rank over name, slug, description and tags (fields and documentation make a product
/// a candidate but do not rank it) + 2 × name similarity + 10 for an exact name or slug.
/// </summary>
public sealed class SearchService(QarionDbContext db, SpaceAccess access)
{
    public static readonly IReadOnlyList<string> Types = ["products", "fields", "tags"];
    public const int MaxLimit = 50;

    public async Task<SearchResponse> SearchAsync(string spaceSlug, string? query, IReadOnlyList<string>? types, int limit, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var q = query?.Trim() ?? "";
        if (q.Length is 0 or > 200) throw RequestValidationException.For("query", "q", "give 1 to 200 characters", "string_too_long");
        if (limit is < 1 or > MaxLimit) throw RequestValidationException.For("query", "limit", $"must be 1 to {MaxLimit}", "less_than_equal");
        var wanted = types is null || types.Count == 0 ? Types : types;
        var unknown = wanted.FirstOrDefault(t => !Types.Contains(t));
        if (unknown is not null) throw RequestValidationException.For("query", "types", $"unknown type '{unknown}'; use {string.Join(", ", Types)}", "enum");

        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        try
        {
            // Read-only, and a looser word-similarity threshold than pg_trgm's 0.6 for this transaction only:
            // 'custmer' against 'customer' scores 0.55.
            await using (var setup = new NpgsqlCommand(
                "SET TRANSACTION READ ONLY; SELECT set_config('pg_trgm.word_similarity_threshold', '0.45', true)", connection, tx))
                await setup.ExecuteNonQueryAsync(ct);
            var products = wanted.Contains("products") ? await ProductsAsync(connection, space.SpaceId, q, limit, ct) : [];
            var fields = wanted.Contains("fields") ? await FieldsAsync(connection, space.SpaceId, q, limit, ct) : [];
            var tags = wanted.Contains("tags") ? await TagsAsync(connection, space.SpaceId, q, limit, ct) : [];
            await tx.CommitAsync(ct);
            return new SearchResponse(q, products, fields, tags);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Candidates first, each branch served by its own index (full-text GIN, trigram GIN, the exact-name
    /// btree) and capped, then ranking over the candidates only, then snippets for the final page only.
    /// One OR across both tables would let neither GIN index be used, and the trigram branches take the
    /// parameter itself: a value from the q CTE is unknown at plan time, and the planner then scanned
    /// every field instead of using the index.
    /// </summary>
    internal const string ProductSql = """
        WITH q AS (
            SELECT websearch_to_tsquery('english', @q) || websearch_to_tsquery('simple', @q) AS ts, lower(@q) AS raw
        ),
        hits AS (
            (SELECT s.product_id AS id FROM data_product_search s, q WHERE s.space_id = @space AND s.document @@ q.ts LIMIT @candidates)
            UNION
            (SELECT p.id FROM data_products p WHERE p.space_id = @space AND (lower(@q) <% p.name OR p.name ILIKE @like) LIMIT @candidates)
            UNION
            (SELECT p.id FROM data_products p WHERE p.space_id = @space AND (lower(p.name) = lower(@q) OR p.slug = lower(@q)))
        ),
        ranked AS (
            SELECT p.id,
                   ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', s.head, q.ts)
                     + 2 * word_similarity(q.raw, p.name)
                     + CASE WHEN lower(p.name) = q.raw OR p.slug = q.raw THEN 10 ELSE 0 END AS score
            FROM hits h
            JOIN data_products p ON p.id = h.id
            JOIN data_product_search s ON s.product_id = p.id
            CROSS JOIN q
            WHERE NOT p.is_archived
            ORDER BY score DESC, p.name, p.id
            LIMIT @limit
        )
        SELECT p.id, p.slug, p.name, p.product_type, r.score,
               ts_headline('simple', p.name, q.ts, 'StartSel=<mark>, StopSel=</mark>, HighlightAll=true') AS name_highlight,
               CASE WHEN p.description IS NULL THEN NULL
                    ELSE ts_headline('english', p.description, q.ts, 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=10, MaxFragments=2') END AS snippet
        FROM ranked r
        JOIN data_products p ON p.id = r.id
        CROSS JOIN q
        ORDER BY r.score DESC, p.name, p.id
        """;

    internal const string FieldSql = """
        WITH q AS (SELECT websearch_to_tsquery('english', @q) AS ts, lower(@q) AS raw),
        hits AS (
            (SELECT f.id FROM product_fields f WHERE f.space_id = @space AND (lower(@q) <% f.name OR f.name ILIKE @like) LIMIT @field_candidates)
            UNION
            (SELECT f.id FROM product_fields f, q WHERE f.space_id = @space AND to_tsvector('english', coalesce(f.description, '')) @@ q.ts LIMIT @field_candidates)
            UNION
            (SELECT f.id FROM product_fields f WHERE f.space_id = @space AND lower(f.name) = lower(@q) LIMIT @field_candidates)
        ),
        ranked AS (
            SELECT f.id,
                   2 * word_similarity(q.raw, f.name)
                     + CASE WHEN lower(f.name) = q.raw THEN 10 ELSE 0 END
                     + CASE WHEN to_tsvector('english', coalesce(f.description, '')) @@ q.ts THEN 0.5 ELSE 0 END AS score
            FROM hits h
            JOIN product_fields f ON f.id = h.id
            JOIN data_products p ON p.id = f.product_id
            CROSS JOIN q
            WHERE NOT p.is_archived
            ORDER BY score DESC, f.name, f.id
            LIMIT @limit
        )
        SELECT f.id, f.name, f.data_type, p.id, p.slug, p.name, r.score,
               CASE WHEN f.description IS NULL THEN NULL
                    ELSE ts_headline('english', f.description, q.ts, 'StartSel=<mark>, StopSel=</mark>, MaxWords=20, MinWords=5') END
        FROM ranked r
        JOIN product_fields f ON f.id = r.id
        JOIN data_products p ON p.id = f.product_id
        CROSS JOIN q
        ORDER BY r.score DESC, f.name, f.id
        """;

    internal const string TagSql = """
        SELECT t.id, t.name, (SELECT count(*) FROM product_tags pt WHERE pt.tag_id = t.id)::int,
               similarity(lower(t.name), lower(@q)) + CASE WHEN lower(t.name) = lower(@q) THEN 10 ELSE 0 END AS score
        FROM tags t
        WHERE t.space_id = @space AND (lower(@q) <% t.name OR t.name ILIKE @like)
        ORDER BY score DESC, t.name, t.id
        LIMIT @limit
        """;

    /// <summary>How many candidates each branch may contribute before ranking.</summary>
    internal const int Candidates = 400;

    /// <summary>Fields are twenty times as many as products and rank with less to go on: fewer candidates.</summary>
    internal const int FieldCandidates = 150;

    private static async Task<List<ProductHit>> ProductsAsync(NpgsqlConnection connection, Guid space, string q, int limit, CancellationToken ct)
    {
        await using var command = await PreparedCommandAsync(connection, ProductSql, space, q, limit, ct);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var hits = new List<ProductHit>();
        while (await reader.ReadAsync(ct))
            hits.Add(new ProductHit(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                Math.Round(reader.GetDouble(4), 4), reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        return hits;
    }

    private static async Task<List<FieldHit>> FieldsAsync(NpgsqlConnection connection, Guid space, string q, int limit, CancellationToken ct)
    {
        await using var command = await PreparedCommandAsync(connection, FieldSql, space, q, limit, ct);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var hits = new List<FieldHit>();
        while (await reader.ReadAsync(ct))
            hits.Add(new FieldHit(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetGuid(3), reader.GetString(4), reader.GetString(5), Math.Round(reader.GetDouble(6), 4),
                reader.IsDBNull(7) ? null : reader.GetString(7)));
        return hits;
    }

    private static async Task<List<TagHit>> TagsAsync(NpgsqlConnection connection, Guid space, string q, int limit, CancellationToken ct)
    {
        await using var command = await PreparedCommandAsync(connection, TagSql, space, q, limit, ct);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var hits = new List<TagHit>();
        while (await reader.ReadAsync(ct))
            hits.Add(new TagHit(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), Math.Round(reader.GetDouble(3), 4)));
        return hits;
    }

    /// <summary>
    /// The three statements are prepared explicitly (once per pooled connection, then reused): they plan in about as
    /// long as they run. Explicitly, not by auto-prepare, which is off (docs/decisions/0008-npgsql-auto-prepare.md).
    /// </summary>
    private static async Task<NpgsqlCommand> PreparedCommandAsync(NpgsqlConnection connection, string sql, Guid space, string q, int limit, CancellationToken ct)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("space", space);
        command.Parameters.AddWithValue("q", q);
        command.Parameters.AddWithValue("like", Text.ContainsPattern(q));
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("candidates", Candidates);
        command.Parameters.AddWithValue("field_candidates", FieldCandidates);
        try
        {
            await command.PrepareAsync(ct);
        }
        catch
        {
            await command.DisposeAsync();
            throw;
        }
        return command;
    }
}
