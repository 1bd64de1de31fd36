namespace Qarion.Core.Persistence.Migrations;

/// <summary>SQL the Catalog migration adds beside the EF model: search documents, trigram indexes, the append-only audit log.</summary>
internal static class CatalogSql
{
    public const string Up = """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;

        -- Search documents live beside the products, not in them, so refreshing one (a tag renamed,
        -- a field added) never bumps the product's xmin version and never fails a client's If-Match.
        CREATE TABLE data_product_search (
            product_id uuid PRIMARY KEY REFERENCES data_products (id) ON DELETE CASCADE,
            space_id uuid NOT NULL,
            document tsvector NOT NULL
        );
        CREATE INDEX ix_data_product_search_document ON data_product_search USING gin (document);
        CREATE INDEX ix_data_product_search_space ON data_product_search (space_id);
        CREATE INDEX ix_data_products_name_trgm ON data_products USING gin (name gin_trgm_ops);
        CREATE INDEX ix_product_fields_name_trgm ON product_fields USING gin (name gin_trgm_ops);
        CREATE INDEX ix_tags_name_trgm ON tags USING gin (name gin_trgm_ops);

        -- Weights: A name and slug, B description and tags, C field names and descriptions, D documentation.
        -- 'simple' keeps names and identifiers whole; 'english' stems prose (orders → order).
        CREATE FUNCTION qarion_refresh_product_search(ids uuid[]) RETURNS void LANGUAGE sql AS $$
            INSERT INTO data_product_search (product_id, space_id, document)
            SELECT p.id, p.space_id,
                   setweight(to_tsvector('simple', p.name || ' ' || replace(p.slug, '-', ' ')), 'A')
                || setweight(to_tsvector('english', p.name), 'A')
                || setweight(to_tsvector('english', coalesce(p.description, '')), 'B')
                || setweight(to_tsvector('simple', coalesce(
                       (SELECT string_agg(t.name, ' ') FROM product_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.product_id = p.id), '')), 'B')
                || setweight(to_tsvector('english', coalesce(
                       (SELECT string_agg(f.name || ' ' || coalesce(f.description, ''), ' ') FROM product_fields f WHERE f.product_id = p.id), '')), 'C')
                || setweight(to_tsvector('english', left(coalesce(p.documentation, ''), 100000)), 'D')
            FROM data_products p
            WHERE p.id = ANY (ids)
            ON CONFLICT (product_id) DO UPDATE SET document = excluded.document, space_id = excluded.space_id;
        $$;

        CREATE FUNCTION qarion_audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION qarion_audit_log_is_append_only();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION qarion_audit_log_is_append_only();
        """;

    public const string Down = """
        DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
        DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
        DROP FUNCTION IF EXISTS qarion_audit_log_is_append_only();
        DROP FUNCTION IF EXISTS qarion_refresh_product_search(uuid[]);
        DROP TABLE IF EXISTS data_product_search;
        DROP INDEX IF EXISTS ix_tags_name_trgm;
        DROP INDEX IF EXISTS ix_product_fields_name_trgm;
        DROP INDEX IF EXISTS ix_data_products_name_trgm;
        """;
}
