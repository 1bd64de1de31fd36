using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using Qarion.Core.Ingestion;
using Qarion.Core.Ingestion.Postgres;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Ingestion;

/// <summary>The Chinook source (shared, read-only) and one scratch source with every catalog feature the scraper folds.</summary>
public sealed class PostgresScraperFixture : IAsyncLifetime
{
    public PostgresScraper Scraper { get; } = new(TimeProvider.System);
    public string Chinook { get; private set; } = "";
    public ScratchDatabase Features { get; private set; } = null!;
    public bool HasForeignTable { get; private set; }

    public async Task InitializeAsync()
    {
        Chinook = await SourceDatabases.ChinookAsync();
        Features = await SourceDatabases.CreateScratchAsync();
        await using (var connection = new NpgsqlConnection(Features.ConnectionString))
        {
            await connection.OpenAsync();
            // postgres_fdw is a contrib module; a cluster without it still gets every other check.
            await using var probe = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgres_fdw')", connection);
            HasForeignTable = (bool)(await probe.ExecuteScalarAsync())!;
        }
        await Features.ExecuteAsync(FeaturesDdl);
        if (HasForeignTable)
            await Features.ExecuteAsync("""
                CREATE EXTENSION postgres_fdw;
                CREATE SERVER elsewhere FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'elsewhere');
                CREATE FOREIGN TABLE sales.remote_orders (id integer NOT NULL, note text) SERVER elsewhere;
                """);
        await Features.ExecuteAsync("ANALYZE");
        // Created after ANALYZE: its reltuples stays -1 ("never analysed"). Three rows stay far below autovacuum's threshold.
        await Features.ExecuteAsync("CREATE TABLE sales.fresh (id integer); INSERT INTO sales.fresh VALUES (1), (2), (3);");
    }

    public async Task DisposeAsync() => await Features.DisposeAsync();

    public static (PostgresSourceConfig Config, PostgresCredentials Credentials) Source(string database, int statementTimeoutSeconds = 60)
    {
        var admin = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdmin);
        return (new PostgresSourceConfig(admin.Host!, admin.Port, database, StatementTimeoutSeconds: statementTimeoutSeconds),
            new PostgresCredentials(admin.Username!, admin.Password));
    }

    private const string FeaturesDdl = """
        CREATE SCHEMA sales;
        CREATE SCHEMA ref;
        CREATE SCHEMA tmp_a;
        CREATE SCHEMA tmp_b;
        CREATE TABLE tmp_a.scratch (id integer);
        CREATE TABLE tmp_b.scratch (id integer);

        CREATE TABLE ref.region (region_code text PRIMARY KEY, name text NOT NULL);
        INSERT INTO ref.region VALUES ('eu', 'Europe'), ('us', 'United States');

        CREATE TABLE sales.customer (
            tenant_id integer NOT NULL,
            customer_no integer NOT NULL,
            region_code text REFERENCES ref.region,
            PRIMARY KEY (tenant_id, customer_no));
        INSERT INTO sales.customer VALUES (1, 10, 'eu'), (1, 11, 'us'), (2, 10, 'eu');

        -- legacy_code is dropped below, leaving a hole in attnum; the FK columns are named unlike their targets,
        -- so only positional pairing of the composite key gives the right answer.
        CREATE TABLE sales.orders (
            order_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant integer NOT NULL,
            cust_no integer NOT NULL,
            legacy_code text,
            status varchar(20) NOT NULL DEFAULT 'new',
            amount numeric(12,2),
            created_at timestamptz NOT NULL DEFAULT now(),
            amount_cents bigint GENERATED ALWAYS AS ((amount * 100)::bigint) STORED,
            FOREIGN KEY (tenant, cust_no) REFERENCES sales.customer (tenant_id, customer_no));
        ALTER TABLE sales.orders DROP COLUMN legacy_code;
        COMMENT ON TABLE sales.orders IS 'One row per order';
        COMMENT ON COLUMN sales.orders.status IS 'Lifecycle state';
        INSERT INTO sales.orders (tenant, cust_no, amount) VALUES (1, 10, 5.00), (1, 11, 7.50), (2, 10, 1.25), (2, 10, 3.00);

        CREATE VIEW sales.open_orders AS SELECT order_id, amount FROM sales.orders WHERE status = 'new';
        COMMENT ON VIEW sales.open_orders IS 'Orders not yet shipped';
        CREATE MATERIALIZED VIEW sales.order_totals AS SELECT tenant, sum(amount) AS total FROM sales.orders GROUP BY tenant;
        CREATE VIEW sales.customer_regions AS
            SELECT c.tenant_id, c.customer_no, r.name FROM sales.customer AS c JOIN ref.region AS r USING (region_code);
        CREATE VIEW sales.table_count AS SELECT count(*) AS tables FROM pg_catalog.pg_class;

        CREATE TABLE sales.events (event_id bigint NOT NULL, happened_on date NOT NULL, payload text,
            PRIMARY KEY (event_id, happened_on)) PARTITION BY RANGE (happened_on);
        CREATE TABLE sales.events_2024 PARTITION OF sales.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE sales.events_2025 PARTITION OF sales.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE sales.events_2026 PARTITION OF sales.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        INSERT INTO sales.events SELECT i, DATE '2024-03-01', 'a' FROM generate_series(1, 10) AS i;
        INSERT INTO sales.events SELECT i, DATE '2025-03-01', 'b' FROM generate_series(11, 30) AS i;
        INSERT INTO sales.events SELECT i, DATE '2026-03-01', 'c' FROM generate_series(31, 60) AS i;
        CREATE VIEW sales.recent_events AS SELECT event_id, payload FROM sales.events_2026;
        CREATE TABLE sales.event_notes (event_id bigint, happened_on date, note text,
            FOREIGN KEY (event_id, happened_on) REFERENCES sales.events);
        CREATE TABLE sales.legacy_notes (event_id bigint, happened_on date,
            FOREIGN KEY (event_id, happened_on) REFERENCES sales.events_2024 (event_id, happened_on));

        CREATE TABLE sales.empty_marker ();
        """;
}

public sealed class PostgresScraperTests(PostgresScraperFixture fixture) : IClassFixture<PostgresScraperFixture>
{
    /// <summary>Used wherever the server never gets to check it (refused, unresolvable, trust auth), so any leak is visible.</summary>
    private const string Secret = "Pa55-never-in-a-message";

    private PostgresScraper Scraper => fixture.Scraper;
    private static readonly SourceFilters NoTmp = new([], ["tmp_*"], null);

    // ---------------------------------------------------------------- Chinook ----

    [Fact]
    public async Task Chinook_has_one_user_schema()
    {
        var (config, creds) = PostgresScraperFixture.Source(fixture.Chinook);
        Assert.Equal(["public"], await Scraper.ListSchemasAsync(config, creds, SourceFilters.None, default));
    }

    [Fact]
    public async Task Test_reports_the_server_version_and_database()
    {
        var (config, creds) = PostgresScraperFixture.Source(fixture.Chinook);
        var result = await Scraper.TestAsync(config, creds, default);

        Assert.True(result.Success, result.Message);
        Assert.Matches(@"^Connected to PostgreSQL \d+(\.\d+)? \(database " + fixture.Chinook + @"\)$", result.Message);
        Assert.InRange(result.LatencyMs, 0, 10_000);
    }

    /// <summary>Expected values come from information_schema and count(*), not from the catalog queries under test.</summary>
    [Fact]
    public async Task Chinook_extract_matches_information_schema()
    {
        var (config, creds) = PostgresScraperFixture.Source(fixture.Chinook);
        var snapshot = await Scraper.ExtractAsync(config, creds, ["public"], SourceFilters.None, default);

        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionStringFor(fixture.Chinook));
        await connection.OpenAsync();
        var tables = await QueryAsync(connection, """
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name COLLATE "C"
            """, r => r.GetString(0));
        var primaryKeys = (await QueryAsync(connection, """
            SELECT kcu.table_name, kcu.column_name
            FROM information_schema.table_constraints AS tc
            JOIN information_schema.key_column_usage AS kcu
              ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
            WHERE tc.table_schema = 'public' AND tc.constraint_type = 'PRIMARY KEY'
            """, r => (Table: r.GetString(0), Column: r.GetString(1)))).ToHashSet();
        // The referenced column pairs with the referencing one through position_in_unique_constraint.
        var foreignKeys = (await QueryAsync(connection, """
            SELECT kcu.table_name, kcu.column_name, ref.table_schema || '.' || ref.table_name || '.' || ref.column_name
            FROM information_schema.referential_constraints AS rc
            JOIN information_schema.key_column_usage AS kcu
              ON kcu.constraint_schema = rc.constraint_schema AND kcu.constraint_name = rc.constraint_name
            JOIN information_schema.key_column_usage AS ref
              ON ref.constraint_schema = rc.unique_constraint_schema AND ref.constraint_name = rc.unique_constraint_name
             AND ref.ordinal_position = kcu.position_in_unique_constraint
            WHERE kcu.table_schema = 'public'
            """, r => (Table: r.GetString(0), Column: r.GetString(1), Target: r.GetString(2))))
            .ToDictionary(fk => (fk.Table, fk.Column), fk => fk.Target);
        var columns = await QueryAsync(connection, """
            SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision, numeric_scale,
                   is_nullable = 'YES', ordinal_position
            FROM information_schema.columns
            WHERE table_schema = 'public'
            ORDER BY table_name, ordinal_position
            """, r =>
            {
                var table = r.GetString(0);
                var column = r.GetString(1);
                var type = r.GetString(2);
                if (!r.IsDBNull(3)) type += $"({r.GetInt32(3)})";
                else if (type == "numeric" && !r.IsDBNull(4)) type += $"({r.GetInt32(4)},{r.GetInt32(5)})";
                return (Table: table, Field: new SnapshotField(column, type, r.GetBoolean(6), null, r.GetInt32(7),
                    primaryKeys.Contains((table, column)), foreignKeys.GetValueOrDefault((table, column)), null));
            });

        Assert.Equal(11, tables.Count);
        Assert.Equal(tables.Select(t => "public." + t), snapshot.Products.Select(p => p.ExternalId));
        foreach (var product in snapshot.Products)
        {
            Assert.Equal(product.ExternalId["public.".Length..], product.Name);
            Assert.Equal("table", product.ProductType);
            Assert.Equal("public", product.Schema);
            Assert.Equal($"{fixture.Chinook}.public.{product.Name}", product.HostingLocation);
            Assert.Equal("postgresql", product.Provider);
            Assert.Null(product.Description);
            Assert.Null(product.OwnerEmail);
            Assert.Empty(product.Tags);
            Assert.Equal(columns.Where(c => c.Table == product.Name).Select(c => c.Field), product.Fields);
            Assert.Equal(await CountAsync(connection, product.Name), product.RowCountEstimate);
        }
        Assert.Equal(15_607, snapshot.Products.Sum(p => p.RowCountEstimate));
        Assert.Empty(snapshot.Edges);
        Assert.Empty(snapshot.Warnings);
        Assert.Empty(snapshot.Tests);

        // The features this set checks are really there (so the comparison above cannot pass vacuously).
        var fields = snapshot.Products.ToDictionary(p => p.Name, p => p.Fields);
        Assert.All(fields["playlist_track"], f => Assert.True(f.IsPrimaryKey));
        Assert.Equal("public.employee.employee_id", fields["employee"].Single(f => f.Name == "reports_to").ForeignKeyTarget);
        Assert.Equal(11, snapshot.Products.Sum(p => p.Fields.Count(f => f.ForeignKeyTarget is not null)));
        Assert.Equal("numeric(10,2)", fields["invoice"].Single(f => f.Name == "total").DataType);
        Assert.Equal("character varying(160)", fields["album"].Single(f => f.Name == "title").DataType);
        Assert.Equal("timestamp without time zone", fields["invoice"].Single(f => f.Name == "invoice_date").DataType);
    }

    // ------------------------------------------------------- catalog features ----

    [Fact]
    public async Task Schemas_leave_out_system_schemas_and_follow_the_filters()
    {
        var (config, creds) = PostgresScraperFixture.Source(fixture.Features.Name);

        // "public" exists but holds nothing to catalogue, so it is not listed.
        Assert.Equal(["ref", "sales", "tmp_a", "tmp_b"], await Scraper.ListSchemasAsync(config, creds, SourceFilters.None, default));
        Assert.Equal(["ref", "sales"], await Scraper.ListSchemasAsync(config, creds, NoTmp, default));
        Assert.Equal(["sales"], await Scraper.ListSchemasAsync(config, creds, new SourceFilters(["sales", "tmp_a"], ["tmp_*"], null), default));
    }

    [Fact]
    public async Task Extract_folds_partitions_and_reads_comments_defaults_keys_and_lineage()
    {
        var (config, creds) = PostgresScraperFixture.Source(fixture.Features.Name);
        var schemas = await Scraper.ListSchemasAsync(config, creds, NoTmp, default);
        var snapshot = await Scraper.ExtractAsync(config, creds, schemas, NoTmp, default);
        var products = snapshot.Products.ToDictionary(p => p.ExternalId);

        List<string> expected =
        [
            "ref.region", "sales.customer", "sales.customer_regions", "sales.empty_marker", "sales.event_notes",
            "sales.events", "sales.fresh", "sales.legacy_notes", "sales.open_orders", "sales.order_totals", "sales.orders",
            "sales.recent_events", "sales.table_count",
        ];
        if (fixture.HasForeignTable) expected.Insert(expected.IndexOf("sales.table_count"), "sales.remote_orders");
        Assert.Equal(expected, snapshot.Products.Select(p => p.ExternalId));

        var orders = products["sales.orders"];
        Assert.Equal("One row per order", orders.Description);
        Assert.Equal($"{fixture.Features.Name}.sales.orders", orders.HostingLocation);
        Assert.Equal(4, orders.RowCountEstimate);
        Assert.Equal(
        [
            new SnapshotField("order_id", "bigint", false, null, 1, true, null, null),
            new SnapshotField("tenant", "integer", false, null, 2, false, "sales.customer.tenant_id", null),
            new SnapshotField("cust_no", "integer", false, null, 3, false, "sales.customer.customer_no", null),
            new SnapshotField("status", "character varying(20)", false, "Lifecycle state", 4, false, null, "'new'::character varying"),
            new SnapshotField("amount", "numeric(12,2)", true, null, 5, false, null, null),
            new SnapshotField("created_at", "timestamp with time zone", false, null, 6, false, null, "now()"),
            new SnapshotField("amount_cents", "bigint", true, null, 7, false, null, null),
        ], orders.Fields);
        // The hole really is there in the source: ordinals above are gap-free despite it.
        Assert.Equal(8, await fixture.Features.ScalarAsync<short>("SELECT max(attnum) FROM pg_attribute WHERE attrelid = 'sales.orders'::regclass"));

        Assert.Equal(
        [
            new SnapshotField("tenant_id", "integer", false, null, 1, true, null, null),
            new SnapshotField("customer_no", "integer", false, null, 2, true, null, null),
            new SnapshotField("region_code", "text", true, null, 3, false, "ref.region.region_code", null),
        ], products["sales.customer"].Fields);

        var events = products["sales.events"];
        Assert.Equal("table", events.ProductType);
        Assert.Equal(60, events.RowCountEstimate);
        Assert.Equal(["event_id", "happened_on", "payload"], events.Fields.Select(f => f.Name));
        Assert.DoesNotContain(snapshot.Products, p => p.Name.StartsWith("events_", StringComparison.Ordinal));
        foreach (var notes in new[] { "sales.event_notes", "sales.legacy_notes" })
            Assert.Equal(["sales.events.event_id", "sales.events.happened_on"], products[notes].Fields.Take(2).Select(f => f.ForeignKeyTarget));

        Assert.Equal("view", products["sales.open_orders"].ProductType);
        Assert.Equal("Orders not yet shipped", products["sales.open_orders"].Description);
        Assert.Null(products["sales.open_orders"].RowCountEstimate);
        Assert.Equal("materialized_view", products["sales.order_totals"].ProductType);
        Assert.Equal(2, products["sales.order_totals"].RowCountEstimate);
        Assert.Equal(["tenant", "total"], products["sales.order_totals"].Fields.Select(f => f.Name));
        Assert.True(products["sales.open_orders"].Fields.All(f => f.IsNullable));

        Assert.Empty(products["sales.empty_marker"].Fields);
        Assert.Equal(0, products["sales.empty_marker"].RowCountEstimate);
        Assert.Null(products["sales.fresh"].RowCountEstimate);
        Assert.Equal(2, products["ref.region"].RowCountEstimate);
        if (fixture.HasForeignTable)
        {
            Assert.Equal("table", products["sales.remote_orders"].ProductType);
            Assert.Null(products["sales.remote_orders"].RowCountEstimate);
            Assert.Equal(["id", "note"], products["sales.remote_orders"].Fields.Select(f => f.Name));
        }

        // table_count reads pg_catalog only: no edge; recent_events reads a partition: the edge names its root.
        Assert.Equal(
        [
            new SnapshotEdge("ref.region", "sales.customer_regions"),
            new SnapshotEdge("sales.customer", "sales.customer_regions"),
            new SnapshotEdge("sales.events", "sales.recent_events"),
            new SnapshotEdge("sales.orders", "sales.open_orders"),
            new SnapshotEdge("sales.orders", "sales.order_totals"),
        ], snapshot.Edges);
        Assert.Empty(snapshot.Warnings);
        Assert.All(snapshot.Products, p => Assert.Equal("postgresql", p.Provider));
        Assert.All(snapshot.Products, p => Assert.Equal(p.Fields.Select((_, i) => i + 1), p.Fields.Select(f => f.Ordinal)));
    }

    [Fact]
    public async Task Table_regex_drops_tables_and_their_edges_only_within_the_extracted_schemas()
    {
        var (config, creds) = PostgresScraperFixture.Source(fixture.Features.Name);
        var filters = new SourceFilters([], ["tmp_*"], "^(?!orders$|region$)");

        var salesOnly = await Scraper.ExtractAsync(config, creds, ["sales"], filters, default);
        Assert.DoesNotContain(salesOnly.Products, p => p.Name == "orders");
        Assert.Contains(salesOnly.Products, p => p.ExternalId == "sales.open_orders");
        // ref is not extracted here, so its region is left for the merge to resolve.
        Assert.Equal(
        [
            new SnapshotEdge("ref.region", "sales.customer_regions"),
            new SnapshotEdge("sales.customer", "sales.customer_regions"),
            new SnapshotEdge("sales.events", "sales.recent_events"),
        ], salesOnly.Edges);

        var both = await Scraper.ExtractAsync(config, creds, ["ref", "sales"], filters, default);
        Assert.DoesNotContain(both.Products, p => p.Schema == "ref");
        Assert.Equal(
        [
            new SnapshotEdge("sales.customer", "sales.customer_regions"),
            new SnapshotEdge("sales.events", "sales.recent_events"),
        ], both.Edges);
    }

    [Fact]
    public async Task Extract_skips_schemas_the_filters_exclude_even_when_asked_for()
    {
        var (config, creds) = PostgresScraperFixture.Source(fixture.Features.Name);

        var snapshot = await Scraper.ExtractAsync(config, creds, ["tmp_a", "ref", "tmp_b"], NoTmp, default);
        Assert.Equal(["ref.region"], snapshot.Products.Select(p => p.ExternalId));
        Assert.Same(CatalogSnapshot.Empty, await Scraper.ExtractAsync(config, creds, ["tmp_a"], NoTmp, default));
    }

    // ------------------------------------------------------------------ bulk ----

    /// <summary>
    /// Npgsql starts an activity on its "Npgsql" ActivitySource for every command or batch it executes once a
    /// listener samples that source; db.namespace names the database, which keeps other test classes out.
    /// </summary>
    [Fact]
    public async Task Extract_runs_the_same_few_commands_for_5_tables_as_for_60()
    {
        await using var source = await SourceDatabases.CreateScratchAsync();
        var ddl = new StringBuilder("CREATE SCHEMA few; CREATE SCHEMA many;\n");
        foreach (var (schema, count) in new[] { ("few", 5), ("many", 60) })
            for (var i = 1; i <= count; i++)
            {
                ddl.Append(CultureInfo.InvariantCulture, $"CREATE TABLE {schema}.t{i} (id integer PRIMARY KEY, parent_id integer REFERENCES {schema}.t{i} (id), name text);\n");
                if (i % 5 == 0) ddl.Append(CultureInfo.InvariantCulture, $"CREATE VIEW {schema}.v{i} AS SELECT id, name FROM {schema}.t{i};\n");
            }
        await source.ExecuteAsync(ddl.ToString());
        var (config, creds) = PostgresScraperFixture.Source(source.Name);

        var commands = new ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a =>
            {
                if (a.GetTagItem("db.namespace") as string == source.Name) commands.Enqueue(a.GetTagItem("db.query.text") as string ?? a.DisplayName);
            },
        };
        ActivitySource.AddActivityListener(listener);

        var few = await Scraper.ExtractAsync(config, creds, ["few"], SourceFilters.None, default);
        var forFew = commands.ToArray();
        commands.Clear();
        var many = await Scraper.ExtractAsync(config, creds, ["many"], SourceFilters.None, default);
        var forMany = commands.ToArray();

        Assert.Equal(6, few.Products.Count);
        Assert.Equal(72, many.Products.Count);
        Assert.Equal(12, many.Edges.Count);
        Assert.NotEmpty(forFew);
        Assert.InRange(forFew.Length, 1, 8);
        // The second extraction may reuse the pooled connection of the first: compare the statements only.
        static string[] Statements(string[] commands) => commands.Where(c => !c.StartsWith("CONNECT", StringComparison.Ordinal)).ToArray();
        Assert.Equal(Statements(forFew), Statements(forMany));
        Assert.Equal(2, Statements(forMany).Length);
    }

    // ---------------------------------------------------------------- errors ----

    [Fact]
    public void Connection_string_carries_the_config_and_no_pool()
    {
        var cs = new NpgsqlConnectionStringBuilder(PostgresScraper.ConnectionString(
            new PostgresSourceConfig("db.example", 6543, "warehouse", "verify-full", 7, 30), new PostgresCredentials("reader", Secret)));

        Assert.Equal(("db.example", 6543, "warehouse", "reader", Secret), (cs.Host, cs.Port, cs.Database, cs.Username, cs.Password));
        Assert.Equal(SslMode.VerifyFull, cs.SslMode);
        Assert.Equal((7, 35), (cs.Timeout, cs.CommandTimeout));
        Assert.False(cs.Pooling);
        Assert.Equal(("qarion-scraper", "UTC"), (cs.ApplicationName, cs.Timezone));
        Assert.Equal(SslMode.Disable, new NpgsqlConnectionStringBuilder(PostgresScraper.ConnectionString(
            new PostgresSourceConfig("h", 1, "d", "disable"), new PostgresCredentials("u", null))).SslMode);
    }

    [Fact]
    public async Task A_refused_connection_names_the_endpoint()
    {
        var config = new PostgresSourceConfig("127.0.0.1", 1, "chinook");
        var creds = new PostgresCredentials("reader", Secret);

        var result = await Scraper.TestAsync(config, creds, default);
        Assert.False(result.Success);
        Assert.Equal("Could not connect to 127.0.0.1:1: connection refused", result.Message);

        var ex = await Assert.ThrowsAsync<SourceException>(() => Scraper.ExtractAsync(config, creds, ["public"], SourceFilters.None, default));
        Assert.Equal(result.Message, ex.Message);
        var listing = await Assert.ThrowsAsync<SourceException>(() => Scraper.ListSchemasAsync(config, creds, SourceFilters.None, default));
        Assert.Equal(result.Message, listing.Message);
    }

    [Fact]
    public async Task An_unknown_host_is_reported_as_such()
    {
        var result = await Scraper.TestAsync(new PostgresSourceConfig("no-such-host.invalid", 5432, "chinook"), new PostgresCredentials("reader", Secret), default);
        Assert.False(result.Success);
        Assert.Contains("no-such-host.invalid", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_database_is_named()
    {
        var database = $"qt_{Environment.ProcessId}_missing";
        var (config, creds) = PostgresScraperFixture.Source(database);

        var result = await Scraper.TestAsync(config, creds, default);
        Assert.False(result.Success);
        Assert.Equal($"Database \"{database}\" does not exist (3D000)", result.Message);
        var ex = await Assert.ThrowsAsync<SourceException>(() => Scraper.ExtractAsync(config, creds, ["public"], SourceFilters.None, default));
        Assert.Equal(result.Message, ex.Message);
    }

    /// <summary>
    /// The test cluster trusts local connections (pg_hba: trust), so a wrong password cannot be observed; an
    /// unknown role is rejected the same way (28000 under trust, 28P01 under password auth).
    /// </summary>
    [Fact]
    public async Task An_unknown_role_fails_authentication_without_echoing_the_password()
    {
        var (config, _) = PostgresScraperFixture.Source(fixture.Chinook);
        var result = await Scraper.TestAsync(config, new PostgresCredentials("qt_no_such_role", Secret), default);

        Assert.False(result.Success);
        Assert.StartsWith("Authentication failed for user \"qt_no_such_role\" (28", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_ssl_mode_or_a_refused_tls_request_is_a_failed_test()
    {
        var (config, creds) = PostgresScraperFixture.Source(fixture.Chinook);
        var unknown = await Scraper.TestAsync(config with { SslMode = "sometimes" }, creds, default);
        Assert.False(unknown.Success);
        Assert.Contains("\"sometimes\"", unknown.Message, StringComparison.Ordinal);

        // Only meaningful where the server has TLS off, as the local test cluster does.
        if (await fixture.Features.ScalarAsync<string>("SHOW ssl") == "off")
        {
            var required = await Scraper.TestAsync(config with { SslMode = "require" }, new PostgresCredentials(creds.Username, Secret), default);
            Assert.False(required.Success);
            Assert.Contains($"{config.Host}:{config.Port}", required.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, required.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>A listener that never accepts: the TCP handshake completes (the kernel does it) but no server ever answers.</summary>
    [Fact]
    public async Task A_silent_server_times_out_at_the_connect_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;

        var result = await Scraper.TestAsync(
            new PostgresSourceConfig("127.0.0.1", port, "chinook", ConnectTimeoutSeconds: 1), new PostgresCredentials("reader", Secret), default);

        Assert.False(result.Success);
        Assert.Equal($"Timed out after 1 s connecting to 127.0.0.1:{port}", result.Message);
        Assert.InRange(result.LatencyMs, 900, 10_000);
    }

    /// <summary>
    /// Catalog reads ignore locks on user tables, but obj_description reads pg_description, and an ACCESS
    /// EXCLUSIVE lock on that catalog (held in another transaction) blocks it until the statement timeout.
    /// </summary>
    [Fact]
    public async Task A_blocked_catalog_read_hits_the_statement_timeout_and_cancellation_is_not_a_source_error()
    {
        await using var source = await SourceDatabases.CreateScratchAsync();
        // obj_description runs once per relation, so the schema needs one.
        await source.ExecuteAsync("CREATE TABLE public.t (id integer)");
        await using var blocker = new NpgsqlConnection(source.ConnectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockCatalog = new NpgsqlCommand("LOCK TABLE pg_catalog.pg_description IN ACCESS EXCLUSIVE MODE", blocker, transaction))
            await lockCatalog.ExecuteNonQueryAsync();

        var (config, creds) = PostgresScraperFixture.Source(source.Name, statementTimeoutSeconds: 1);
        var ex = await Assert.ThrowsAsync<SourceException>(() => Scraper.ExtractAsync(config, creds, ["public"], SourceFilters.None, default));
        Assert.Equal("Statement timeout (1 s) exceeded while reading the catalog", ex.Message);

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var (patient, _) = PostgresScraperFixture.Source(source.Name, statementTimeoutSeconds: 30);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Scraper.ExtractAsync(patient, creds, ["public"], SourceFilters.None, cancel.Token));

        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task Test_honours_cancellation()
    {
        var (config, creds) = PostgresScraperFixture.Source(fixture.Chinook);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Scraper.TestAsync(config, creds, new CancellationToken(true)));
    }

    // --------------------------------------------------------------- helpers ----

    private static async Task<List<T>> QueryAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> map)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync()) rows.Add(map(reader));
        return rows;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string table)
    {
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM public.\"{table}\"", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
