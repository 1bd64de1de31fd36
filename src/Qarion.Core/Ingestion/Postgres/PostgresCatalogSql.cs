namespace Qarion.Core.Ingestion.Postgres;

/// <summary>
/// The catalog queries the PostgreSQL scraper runs. They read <c>pg_catalog</c> directly (information_schema
/// is a stack of views with privilege checks per row and is several times slower on large catalogs), and each
/// one covers every requested schema at once (<c>$1</c> is the schema list as <c>text[]</c>), so a sync costs
/// the same number of round trips for 5 tables or 5,000. Single-byte <c>"char"</c> columns are cast to text:
/// the scraper runs without Npgsql's type loading, which leaves that type unknown to it. Comments are
/// joined from <c>pg_description</c> rather than read with <c>obj_description</c>/<c>col_description</c>,
/// which cost one lookup per row (half the time of the column query on 50,000 columns).
/// </summary>
internal static class PostgresCatalogSql
{
    /// <summary>
    /// User schemas that hold at least one relation the scraper catalogues: the system ones and the
    /// per-session temporary/toast schemas are never products, and an empty schema would only cost an
    /// extraction (products of a schema that became empty are still marked stale by a refresh: they are
    /// missing from the snapshot).
    /// </summary>
    public const string Schemas = """
        SELECT n.nspname
        FROM pg_catalog.pg_namespace AS n
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg\_temp\_%'
          AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
          AND EXISTS (
              SELECT 1 FROM pg_catalog.pg_class AS c
              WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND NOT c.relispartition)
        """;

    /// <summary>
    /// Tables (r), partitioned tables (p), foreign tables (f), views (v) and materialized views (m); partitions
    /// are folded into their root, whose estimate is the sum over its analysed leaves. <c>reltuples = -1</c>
    /// means "never analysed" (PostgreSQL 14+), which is unknown rather than zero.
    /// </summary>
    public const string Relations = """
        SELECT c.oid,
               n.nspname,
               c.relname,
               c.relkind::text,
               ds.description,
               CASE
                   WHEN c.relkind = 'v' THEN NULL
                   WHEN c.relkind = 'p' THEN (
                       SELECT round(sum(leaf.reltuples::float8))::bigint
                       FROM pg_catalog.pg_partition_tree(c.oid) AS tree
                       JOIN pg_catalog.pg_class AS leaf ON leaf.oid = tree.relid
                       WHERE tree.isleaf AND leaf.reltuples >= 0)
                   WHEN c.reltuples < 0 THEN NULL
                   ELSE round(c.reltuples::float8)::bigint
               END AS row_estimate,
               c.relkind IN ('v', 'm') AND NOT EXISTS (
                   SELECT 1 FROM pg_catalog.pg_rewrite AS r
                   WHERE r.ev_class = c.oid AND r.rulename = '_RETURN') AS definition_missing
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_description AS ds
               ON ds.objoid = c.oid AND ds.classoid = 'pg_catalog.pg_class'::regclass AND ds.objsubid = 0
        WHERE n.nspname = ANY($1)
          AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
          AND NOT c.relispartition
        """;

    /// <summary>
    /// Live columns of the same relations. The ordinal is counted over live columns only, because attnum keeps
    /// the holes a dropped column leaves. Generated columns keep their expression out of the default, as
    /// information_schema does.
    /// </summary>
    public const string Columns = """
        SELECT a.attrelid,
               a.attname,
               pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
               NOT a.attnotnull AS is_nullable,
               CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS default_value,
               ds.description,
               (row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum))::int AS ordinal
        FROM pg_catalog.pg_attribute AS a
        JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_catalog.pg_description AS ds
               ON ds.objoid = a.attrelid AND ds.classoid = 'pg_catalog.pg_class'::regclass AND ds.objsubid = a.attnum
        WHERE n.nspname = ANY($1)
          AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
          AND NOT c.relispartition
          AND a.attnum > 0
          AND NOT a.attisdropped
        """;

    /// <summary>
    /// One row per column of each primary and foreign key; <c>unnest(conkey, confkey)</c> pairs the columns of a
    /// composite key positionally. Constraints with a parent (<c>conparentid &lt;&gt; 0</c>) are the copies
    /// PostgreSQL makes for each partition of a partitioned table and would repeat the parent's key. A reference
    /// to a partition is reported against its root, the only one of the two that is a product; partitions share
    /// their root's column names, so the referenced column's name carries over.
    /// </summary>
    public const string Keys = """
        SELECT con.conrelid,
               con.contype::text,
               a.attname AS column_name,
               target_ns.nspname AS target_schema,
               target.relname AS target_table,
               target_att.attname AS target_column
        FROM pg_catalog.pg_constraint AS con
        JOIN pg_catalog.pg_class AS c ON c.oid = con.conrelid
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL unnest(con.conkey, con.confkey) AS k(attnum, target_attnum)
        JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
        LEFT JOIN pg_catalog.pg_attribute AS target_att
               ON target_att.attrelid = con.confrelid AND target_att.attnum = k.target_attnum
        LEFT JOIN pg_catalog.pg_class AS target
               ON con.contype = 'f'
              AND target.oid = coalesce(pg_catalog.pg_partition_root(con.confrelid), con.confrelid)
        LEFT JOIN pg_catalog.pg_namespace AS target_ns ON target_ns.oid = target.relnamespace
        WHERE n.nspname = ANY($1)
          AND c.relkind IN ('r', 'p', 'f')
          AND NOT c.relispartition
          AND con.contype IN ('p', 'f')
          AND con.conparentid = 0
        ORDER BY con.conname
        """;

    /// <summary>
    /// What each view and materialized view reads: the relations its <c>_RETURN</c> rule depends on normally
    /// (other rules on a view are writes, data flowing the other way). A view's rule also depends on the view
    /// itself, which is not lineage. Partitions are reported as their root; system catalogs are never products.
    /// </summary>
    public const string ViewDependencies = """
        SELECT DISTINCT v.oid AS view_oid,
               upstream_ns.nspname AS upstream_schema,
               upstream.relname AS upstream_name
        FROM pg_catalog.pg_class AS v
        JOIN pg_catalog.pg_namespace AS n ON n.oid = v.relnamespace
        JOIN pg_catalog.pg_rewrite AS r ON r.ev_class = v.oid AND r.rulename = '_RETURN'
        JOIN pg_catalog.pg_depend AS d
          ON d.classid = 'pg_catalog.pg_rewrite'::regclass
         AND d.objid = r.oid
         AND d.refclassid = 'pg_catalog.pg_class'::regclass
         AND d.deptype = 'n'
        JOIN pg_catalog.pg_class AS upstream
          ON upstream.oid = coalesce(pg_catalog.pg_partition_root(d.refobjid), d.refobjid)
        JOIN pg_catalog.pg_namespace AS upstream_ns ON upstream_ns.oid = upstream.relnamespace
        WHERE n.nspname = ANY($1)
          AND v.relkind IN ('v', 'm')
          AND upstream.oid <> v.oid
          AND upstream.relkind IN ('r', 'p', 'f', 'v', 'm')
          AND upstream_ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND upstream_ns.nspname NOT LIKE 'pg\_temp\_%'
          AND upstream_ns.nspname NOT LIKE 'pg\_toast\_temp\_%'
        """;
}
