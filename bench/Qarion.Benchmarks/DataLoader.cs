using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Qarion.Core.Persistence;

namespace Qarion.Benchmarks;

/// <summary>
/// Creates the bench database (migrated by the committed EF migrations) and bulk-loads it with binary COPY.
/// Secondary indexes are dropped during the load and recreated from their exact definitions afterwards,
/// and foreign-key triggers are skipped for the loading session (session_replication_role = replica);
/// the data is generated consistent, so nothing is lost by not checking it row by row.
/// </summary>
internal static class DataLoader
{
    public const string SpaceSlug = "bench";
    public const string UserEmail = "bench-admin@example.com";
    public const string UserName = "Bench Admin";

    private static readonly string[] LoadedTables =
        ["data_products", "product_fields", "tags", "product_tags", "lineage_edges", "data_product_search"];

    public static async Task<bool> IsLoadedAsync(string adminCs, string database, string benchCs)
    {
        await using (var admin = new NpgsqlConnection(adminCs))
        {
            await admin.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @n", admin);
            cmd.Parameters.AddWithValue("n", database);
            if ((long)(await cmd.ExecuteScalarAsync())! == 0) return false;
        }
        try
        {
            await using var conn = new NpgsqlConnection(benchCs);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "SELECT (SELECT count(*) FROM data_products) > 0 AND (SELECT count(*) FROM data_product_search) > 0 AND EXISTS (SELECT 1 FROM spaces WHERE slug = 'bench')", conn);
            return (bool)(await cmd.ExecuteScalarAsync())!;
        }
        catch (PostgresException)
        {
            return false;
        }
    }

    public static async Task LoadAsync(string adminCs, string database, string benchCs, int productCount)
    {
        var total = Stopwatch.StartNew();
        var sw = Stopwatch.StartNew();
        await using (var admin = new NpgsqlConnection(adminCs))
        {
            await admin.OpenAsync();
            await Exec(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            await Exec(admin, $"CREATE DATABASE \"{database}\"");
        }
        await using (var dataSource = PersistenceExtensions.CreateDataSource(benchCs))
        {
            var options = new DbContextOptionsBuilder<QarionDbContext>();
            options.UseQarionPostgres(dataSource);
            await using var db = new QarionDbContext(options.Options, TimeProvider.System);
            await db.Database.MigrateAsync();
        }
        NpgsqlConnection.ClearAllPools();
        Report.Line($"  create database + EF migrations          {sw.Elapsed.TotalSeconds,8:F1} s");

        var data = new Generator(productCount, seed: 20261126);
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(benchCs) { CommandTimeout = 0, Timezone = "UTC" }.ConnectionString);
        await conn.OpenAsync();
        await Exec(conn, "SET session_replication_role = replica");
        await Exec(conn, "SET maintenance_work_mem = '512MB'");
        await Exec(conn, "SET synchronous_commit = off");

        // Secondary indexes (not those behind primary-key constraints): remember, drop, recreate after the load.
        var indexes = new List<(string Table, string Name, string Def)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename = ANY (@t)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            ORDER BY i.tablename, i.indexname
            """, conn))
        {
            cmd.Parameters.AddWithValue("t", LoadedTables);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) indexes.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
        }
        foreach (var ix in indexes) await Exec(conn, $"DROP INDEX \"{ix.Name}\"");

        sw.Restart();
        await CopySpaceAsync(conn, data);
        await CopyTagsAsync(conn, data);
        var tTags = sw.Elapsed;
        sw.Restart();
        await CopyProductsAsync(conn, data);
        Report.Line($"  COPY space, user, membership, {data.Tags.Length} tags      {tTags.TotalSeconds,8:F1} s");
        Report.Line($"  COPY {data.Products.Length,9:N0} data_products               {sw.Elapsed.TotalSeconds,8:F1} s");
        sw.Restart();
        var fieldCount = await CopyFieldsAsync(conn, data);
        Report.Line($"  COPY {fieldCount,9:N0} product_fields              {sw.Elapsed.TotalSeconds,8:F1} s");
        sw.Restart();
        var productTagCount = await CopyProductTagsAsync(conn, data);
        Report.Line($"  COPY {productTagCount,9:N0} product_tags                {sw.Elapsed.TotalSeconds,8:F1} s");
        sw.Restart();
        var edgeCount = await CopyEdgesAsync(conn, data);
        Report.Line($"  COPY {edgeCount,9:N0} lineage_edges               {sw.Elapsed.TotalSeconds,8:F1} s");

        sw.Restart();
        foreach (var ix in indexes.Where(i => i.Table != "data_product_search")) await Exec(conn, ix.Def);
        Report.Line($"  recreate {indexes.Count(i => i.Table != "data_product_search")} secondary indexes (btree, trigram GIN) {sw.Elapsed.TotalSeconds,6:F1} s");

        sw.Restart();
        await Exec(conn, "ANALYZE");
        var ids = new List<Guid>(data.Products.Length);
        await using (var cmd = new NpgsqlCommand("SELECT id FROM data_products ORDER BY id", conn))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync()) ids.Add(r.GetGuid(0));
        foreach (var chunk in ids.Chunk(10_000))
        {
            await using var cmd = new NpgsqlCommand("SELECT qarion_refresh_product_search(@ids)", conn);
            cmd.Parameters.AddWithValue("ids", chunk);
            await cmd.ExecuteNonQueryAsync();
        }
        Report.Line($"  qarion_refresh_product_search (10k chunks) {sw.Elapsed.TotalSeconds,7:F1} s");
        sw.Restart();
        foreach (var ix in indexes.Where(i => i.Table == "data_product_search")) await Exec(conn, ix.Def);
        Report.Line($"  search indexes (tsvector GIN, space btree) {sw.Elapsed.TotalSeconds,7:F1} s");

        sw.Restart();
        await Exec(conn, "SET session_replication_role = origin");
        await Exec(conn, "VACUUM (ANALYZE)");
        Report.Line($"  VACUUM (ANALYZE)                          {sw.Elapsed.TotalSeconds,8:F1} s");
        Report.Line($"  total load                                {total.Elapsed.TotalSeconds,8:F1} s");
    }

    private static async Task CopySpaceAsync(NpgsqlConnection conn, Generator d)
    {
        var now = d.Now;
        await using (var w = await conn.BeginBinaryImportAsync("COPY users (id, email, display_name, is_superadmin, is_active, created_at, updated_at) FROM STDIN (FORMAT BINARY)"))
        {
            w.StartRow();
            w.Write(d.UserId, NpgsqlDbType.Uuid);
            w.Write(UserEmail, NpgsqlDbType.Varchar);
            w.Write(UserName, NpgsqlDbType.Varchar);
            w.Write(true);
            w.Write(true);
            w.Write(now, NpgsqlDbType.TimestampTz);
            w.Write(now, NpgsqlDbType.TimestampTz);
            await w.CompleteAsync();
        }
        await using (var w = await conn.BeginBinaryImportAsync("COPY spaces (id, slug, name, description, created_at, updated_at) FROM STDIN (FORMAT BINARY)"))
        {
            w.StartRow();
            w.Write(d.SpaceId, NpgsqlDbType.Uuid);
            w.Write(SpaceSlug, NpgsqlDbType.Varchar);
            w.Write("Benchmark", NpgsqlDbType.Varchar);
            w.Write("Synthetic catalog for scripts/bench", NpgsqlDbType.Varchar);
            w.Write(now, NpgsqlDbType.TimestampTz);
            w.Write(now, NpgsqlDbType.TimestampTz);
            await w.CompleteAsync();
        }
        await using (var w = await conn.BeginBinaryImportAsync("COPY space_memberships (id, space_id, user_id, role, created_at, updated_at) FROM STDIN (FORMAT BINARY)"))
        {
            w.StartRow();
            w.Write(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
            w.Write(d.SpaceId, NpgsqlDbType.Uuid);
            w.Write(d.UserId, NpgsqlDbType.Uuid);
            w.Write("admin", NpgsqlDbType.Varchar);
            w.Write(now, NpgsqlDbType.TimestampTz);
            w.Write(now, NpgsqlDbType.TimestampTz);
            await w.CompleteAsync();
        }
    }

    private static async Task CopyTagsAsync(NpgsqlConnection conn, Generator d)
    {
        await using var w = await conn.BeginBinaryImportAsync("COPY tags (id, space_id, name, description, color, created_at, updated_at) FROM STDIN (FORMAT BINARY)");
        foreach (var t in d.Tags)
        {
            w.StartRow();
            w.Write(t.Id, NpgsqlDbType.Uuid);
            w.Write(d.SpaceId, NpgsqlDbType.Uuid);
            w.Write(t.Name, NpgsqlDbType.Varchar);
            w.Write("Products labelled " + t.Name, NpgsqlDbType.Varchar);
            w.Write(t.Color, NpgsqlDbType.Varchar);
            w.Write(d.Now, NpgsqlDbType.TimestampTz);
            w.Write(d.Now, NpgsqlDbType.TimestampTz);
        }
        await w.CompleteAsync();
    }

    private static async Task CopyProductsAsync(NpgsqlConnection conn, Generator d)
    {
        await using var w = await conn.BeginBinaryImportAsync("""
            COPY data_products (id, space_id, slug, name, description, documentation, product_type, provider, hosting_location,
                environment, criticality, sensitivity, owner_id, steward_id, custodian_id, data_architect_id, is_archived, archived_at,
                is_stale, stale_since, is_discovered, manual_attributes, created_by_id, created_at, updated_at) FROM STDIN (FORMAT BINARY)
            """);
        var empty = Array.Empty<string>();
        foreach (var p in d.Products)
        {
            w.StartRow();
            w.Write(p.Id, NpgsqlDbType.Uuid);
            w.Write(d.SpaceId, NpgsqlDbType.Uuid);
            w.Write(p.Slug, NpgsqlDbType.Varchar);
            w.Write(p.Name, NpgsqlDbType.Varchar);
            w.Write(p.Description, NpgsqlDbType.Varchar);
            WriteOrNull(w, p.Documentation);
            w.Write(p.ProductType, NpgsqlDbType.Varchar);
            w.Write(p.Provider, NpgsqlDbType.Varchar);
            w.Write(p.HostingLocation, NpgsqlDbType.Varchar);
            w.Write(p.Environment, NpgsqlDbType.Varchar);
            w.Write(p.Criticality, NpgsqlDbType.Varchar);
            w.Write(p.Sensitivity, NpgsqlDbType.Varchar);
            if (p.Owned) w.Write(d.UserId, NpgsqlDbType.Uuid); else w.WriteNull();
            w.WriteNull();
            w.WriteNull();
            w.WriteNull();
            w.Write(p.Archived);
            if (p.Archived) w.Write(p.UpdatedAt, NpgsqlDbType.TimestampTz); else w.WriteNull();
            w.Write(false);
            w.WriteNull();
            w.Write(false);
            w.Write(empty, NpgsqlDbType.Array | NpgsqlDbType.Text);
            w.Write(d.UserId, NpgsqlDbType.Uuid);
            w.Write(p.CreatedAt, NpgsqlDbType.TimestampTz);
            w.Write(p.UpdatedAt, NpgsqlDbType.TimestampTz);
        }
        await w.CompleteAsync();
    }

    private static async Task<long> CopyFieldsAsync(NpgsqlConnection conn, Generator d)
    {
        await using var w = await conn.BeginBinaryImportAsync("""
            COPY product_fields (id, product_id, space_id, name, data_type, is_nullable, description, ordinal, is_primary_key,
                foreign_key_target, manual_attributes, created_at, updated_at) FROM STDIN (FORMAT BINARY)
            """);
        var empty = Array.Empty<string>();
        long n = 0;
        foreach (var p in d.Products)
        {
            var ordinal = 0;
            foreach (var f in d.FieldsFor(p))
            {
                w.StartRow();
                w.Write(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                w.Write(p.Id, NpgsqlDbType.Uuid);
                w.Write(d.SpaceId, NpgsqlDbType.Uuid);
                w.Write(f.Name, NpgsqlDbType.Varchar);
                w.Write(f.DataType, NpgsqlDbType.Varchar);
                w.Write(!f.IsPrimaryKey);
                WriteOrNull(w, f.Description);
                w.Write(ordinal++);
                w.Write(f.IsPrimaryKey);
                WriteOrNull(w, f.ForeignKeyTarget);
                w.Write(empty, NpgsqlDbType.Array | NpgsqlDbType.Text);
                w.Write(p.CreatedAt, NpgsqlDbType.TimestampTz);
                w.Write(p.UpdatedAt, NpgsqlDbType.TimestampTz);
                n++;
            }
        }
        await w.CompleteAsync();
        return n;
    }

    private static async Task<long> CopyProductTagsAsync(NpgsqlConnection conn, Generator d)
    {
        await using var w = await conn.BeginBinaryImportAsync("COPY product_tags (product_id, tag_id, created_at) FROM STDIN (FORMAT BINARY)");
        long n = 0;
        foreach (var p in d.Products)
            foreach (var t in p.TagIndexes)
            {
                w.StartRow();
                w.Write(p.Id, NpgsqlDbType.Uuid);
                w.Write(d.Tags[t].Id, NpgsqlDbType.Uuid);
                w.Write(p.CreatedAt, NpgsqlDbType.TimestampTz);
                n++;
            }
        await w.CompleteAsync();
        return n;
    }

    private static async Task<long> CopyEdgesAsync(NpgsqlConnection conn, Generator d)
    {
        string[] relationships = ["transforms", "joins", "consumes"];
        await using var w = await conn.BeginBinaryImportAsync("COPY lineage_edges (id, upstream_id, downstream_id, space_id, relationship, created_by_id, created_at) FROM STDIN (FORMAT BINARY)");
        long n = 0;
        foreach (var (up, down) in d.Edges())
        {
            w.StartRow();
            w.Write(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
            w.Write(d.Products[up].Id, NpgsqlDbType.Uuid);
            w.Write(d.Products[down].Id, NpgsqlDbType.Uuid);
            w.Write(d.SpaceId, NpgsqlDbType.Uuid);
            w.Write(relationships[(up + down) % 3], NpgsqlDbType.Varchar);
            w.Write(d.UserId, NpgsqlDbType.Uuid);
            w.Write(d.Products[down].CreatedAt, NpgsqlDbType.TimestampTz);
            n++;
        }
        await w.CompleteAsync();
        return n;
    }

    private static void WriteOrNull(NpgsqlBinaryImporter w, string? value)
    {
        if (value is null) w.WriteNull(); else w.Write(value, NpgsqlDbType.Varchar);
    }

    private static async Task Exec(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync();
    }
}
