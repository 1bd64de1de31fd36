namespace Qarion.Core.Persistence.Migrations;

internal static class SearchHeadSql
{
    private const string Head = """
        setweight(to_tsvector('simple', p.name || ' ' || replace(p.slug, '-', ' ')), 'A')
        || setweight(to_tsvector('english', p.name), 'A')
        || setweight(to_tsvector('english', coalesce(p.description, '')), 'B')
        || setweight(to_tsvector('simple', coalesce(
               (SELECT string_agg(t.name, ' ') FROM product_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.product_id = p.id), '')), 'B')
        """;

    public const string Up = $"""
        ALTER TABLE data_product_search ADD COLUMN head tsvector NOT NULL DEFAULT ''::tsvector;

        CREATE OR REPLACE FUNCTION qarion_refresh_product_search(ids uuid[]) RETURNS void LANGUAGE sql AS $$
            INSERT INTO data_product_search (product_id, space_id, head, document)
            SELECT p.id, p.space_id,
                   {Head},
                   {Head}
                || setweight(to_tsvector('english', coalesce(
                       (SELECT string_agg(f.name || ' ' || coalesce(f.description, ''), ' ') FROM product_fields f WHERE f.product_id = p.id), '')), 'C')
                || setweight(to_tsvector('english', left(coalesce(p.documentation, ''), 100000)), 'D')
            FROM data_products p
            WHERE p.id = ANY (ids)
            ON CONFLICT (product_id) DO UPDATE SET head = excluded.head, document = excluded.document, space_id = excluded.space_id;
        $$;

        SELECT qarion_refresh_product_search(array_agg(id)) FROM data_products;
        """;

    public const string Down = """
        ALTER TABLE data_product_search DROP COLUMN head;
        """;
}
