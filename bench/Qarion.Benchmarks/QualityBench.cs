// Benchmark of data-quality checks: scripts/bench quality [--rows N] [--runs N] [--handler-runs N].
using System.Diagnostics;
using System.Globalization;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion;
using Qarion.Core.Ingestion.Postgres;
using Qarion.Core.Persistence;
using Qarion.Core.Quality;
using Qarion.Core.Spaces;
using Qarion.Functions;

namespace Qarion.Benchmarks;

/// <summary>
/// Generates one wide table (5,000,000 rows by default) in a scratch source database and measures, in the same
/// process: two bare full scans (count(*), which reads no column, and a count of the last column the rules read,
/// which makes PostgreSQL read them all); ten column rules as one <c>field_checks</c> check through
/// <see cref="CheckRunner"/>; the same ten rules as ten separate checks; and the queue handler
/// <see cref="CheckExecutor.HandleAsync"/> around a trivial check beside the runner alone.
/// Both scratch databases are dropped at the end.
/// </summary>
internal static class QualityBench
{
    private const string SourceDb = "qarion_bench_quality_src";
    private const string CatalogDb = "qarion_bench_quality";
    private const string SpaceSlug = "quality";
    private const int WarmupPairs = 40;

    // The rule column stored last in the row: PostgreSQL extracts a row's columns up to the last one a query needs,
    // so counting it is the cheapest scan that reads every column the rules read.
    private const string LastRuleColumn = "status";

    public static async Task<int> RunAsync(string[] args, string adminCs, string storage)
    {
        long rows = 5_000_000;
        int runs = 5, handlerRuns = 50;
        var keep = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rows" when i + 1 < args.Length: rows = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs" when i + 1 < args.Length: runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--handler-runs" when i + 1 < args.Length: handlerRuns = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--keep": keep = true; break;
                default:
                    Console.Error.WriteLine("usage: scripts/bench quality [--rows N (5000000)] [--runs N (5)] [--handler-runs N (50)] [--keep (keep the databases)]");
                    return 2;
            }
        }
        Report.Line("Qarion data-quality benchmark");
        Report.Line("=============================");
        await Machine.PrintAsync(adminCs);
        var sourceCs = new NpgsqlConnectionStringBuilder(adminCs) { Database = SourceDb, CommandTimeout = 0 }.ConnectionString;
        var catalogCs = new NpgsqlConnectionStringBuilder(adminCs) { Database = CatalogDb }.ConnectionString;
        var failures = 0;
        try
        {
            Report.Line();
            var sw = Stopwatch.StartNew();
            var size = await CreateSourceAsync(adminCs, sourceCs, rows);
            Report.Line($"Source: {SourceDb}.public.t, {rows:N0} rows, {size} (generate_series, ANALYZE) — {sw.Elapsed.TotalSeconds:F1} s");
            var b = new NpgsqlConnectionStringBuilder(sourceCs);
            var source = new PostgresSourceConfig(b.Host!, b.Port, SourceDb, "disable", StatementTimeoutSeconds: 3600);
            var creds = new PostgresCredentials(b.Username!, b.Password);
            var runner = new CheckRunner(TimeProvider.System);
            var table = new TableRef("public", "t");

            // ---------------------------------------------------------------- scans ----
            // Interleaved rounds: each round times every operation once (in a rotating order), so a slow spell of a
            // shared machine hits all of them alike; the ratios judged are medians of per-round ratios.
            var typical = RuleSet(TypicalRules(), runner, source, creds, table);
            var regex = RuleSet(RegexRules(), runner, source, creds, table);
            var t = await InterleavedAsync(runs,
                () => BareAsync(sourceCs, "SELECT count(*) FROM public.t"),
                () => BareAsync(sourceCs, $"SELECT count({LastRuleColumn}) FROM public.t"),
                typical.One, typical.Ten, regex.One, regex.Ten);
            var (countStar, columnScan, typicalOne, typicalTen, regexOne, regexTen) = (t[0], t[1], t[2], t[3], t[4], t[5]);

            Report.Line();
            Report.Line($"Scans: best / median of {runs} interleaved rounds after one warm-up round (ms); ratios are medians of per-round ratios");
            Report.Line();
            Report.Line("| operation | best | median | ratio | target |");
            Report.Line("|---|---:|---:|---:|---|");
            Report.Line($"| bare scan `count(*)` (checks each row's visibility, reads no column) | {Best(countStar)} | {Median(countStar)} | 1.00× | |");
            Report.Line($"| bare scan reading the rule columns, `count({LastRuleColumn})` (the last of them in the row) — the baseline of the target | {Best(columnScan)} | {Median(columnScan)} | {Ratio(columnScan, countStar):F2}× count(*) | |");

            // The targets are judged on typical row-by-row rules against a scan that reads the same columns
            // (docs/decisions/0004-quality.md says why not count(*)); the regex set shows what pattern rules add.
            var r1 = Ratio(typicalOne, columnScan);
            var ok1 = r1 <= 2.0;
            var r2 = Ratio(typicalTen, typicalOne);
            var ok2 = r2 >= 5.0;
            if (!ok1 || !ok2 || !typical.Agree()) failures++;
            if (!regex.Agree()) failures++;
            Report.Line($"| 10 typical rules (4 not-null, 4 ranges, 2 accepted-values), one `field_checks` check | {Best(typicalOne)} | {Median(typicalOne)} | {r1:F2}× the column scan, {Ratio(typicalOne, countStar):F2}× count(*) | ≤ 2× a bare scan of the columns: {(ok1 ? "met" : "MISSED")} |");
            Report.Line($"| the same 10 rules as ten separate checks, one after another | {Best(typicalTen)} | {Median(typicalTen)} | {r2:F2}× the one-query check | one query ≥ 5× faster: {(ok2 ? "met" : "MISSED")} |");
            Report.Line($"| 10 rules incl. 2 regexes (4 not-null, 3 ranges, 2 patterns, 1 accepted-values), one check | {Best(regexOne)} | {Median(regexOne)} | {Ratio(regexOne, columnScan):F2}× the column scan, {Ratio(regexOne, countStar):F2}× count(*) | (informational) |");
            Report.Line($"| the same 10 rules as ten separate checks | {Best(regexTen)} | {Median(regexTen)} | {Ratio(regexTen, regexOne):F2}× the one-query check | (informational) |");
            Report.Line();
            Report.Line($"Failing rows per rule, typical: {typical.Failing()}; ten checks agree: {(typical.Agree() ? "yes" : "NO")}");
            Report.Line($"Failing rows per rule, with regexes: {regex.Failing()}; ten checks agree: {(regex.Agree() ? "yes" : "NO")}");

            // ------------------------------------------------------------- handler ----
            Report.Line();
            sw.Restart();
            await RecreateAsync(adminCs, CatalogDb);
            var builder = FunctionsApplication.CreateBuilder([]);
            QarionApp.Configure(builder);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Qarion"] = catalogCs,
                ["AzureWebJobsStorage"] = storage,
                ["Qarion:Telemetry:Enabled"] = "false",
                ["Qarion:Ingestion:CredentialKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
                ["Logging:LogLevel:Default"] = "Warning",
            });
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            using var host = builder.Build();
            var check = await ArrangeCatalogAsync(host.Services, sourceCs);
            Report.Line($"Catalog: database {CatalogDb} migrated; space, postgresql connector with encrypted credentials, row_count check on a 1-row table — {sw.Elapsed.TotalSeconds:F1} s");
            var trivial = PostgresCheckDialect.Instance.Compile(new CheckDefinition(CheckConfigJson.Read(check.Config)));
            var handler = new List<double>();
            var direct = new List<double>();
            var seq = 0;
            for (var i = -WarmupPairs; i < handlerRuns; i++)
            {
                // Alternate which runs first, so neither side always gets the warmer cache.
                var h = 0.0;
                var d = 0.0;
                if (i % 2 == 0) { h = await HandleOnceAsync(host.Services, check, ++seq); d = await DirectOnceAsync(runner, trivial, source, creds); }
                else { d = await DirectOnceAsync(runner, trivial, source, creds); h = await HandleOnceAsync(host.Services, check, ++seq); }
                if (i < 0) continue; // warm-up
                handler.Add(h);
                direct.Add(d);
            }
            var statuses = await StatusesAsync(host.Services);
            var hMed = Stats.Percentile(handler, 50);
            var dMed = Stats.Percentile(direct, 50);
            // Judged on the median of paired differences: each pair ran back to back, so the source's own variance
            // (a fresh connection per run) cancels out; the difference of the two medians is printed beside it.
            var diffs = handler.Zip(direct, (x, y) => x - y).ToList();
            var overhead = Stats.Percentile(diffs, 50);
            var ok3 = overhead <= 10 && statuses == $"pass×{seq}";
            if (!ok3) failures++;
            Report.Line();
            Report.Line($"Handler: trivial check, {handlerRuns} runs after {WarmupPairs} warm-up pairs (a worker runs many; .NET tiered compilation settles after ~30 calls), each a fresh queued execution (ms)");
            Report.Line();
            Report.Line("| operation | p50 | p95 | best | target |");
            Report.Line("|---|---:|---:|---:|---|");
            Report.Line($"| CheckRunner.RunAsync alone (the source's time) | {F(dMed)} | {F(Stats.Percentile(direct, 95))} | {F(direct.Min())} | |");
            Report.Line($"| CheckExecutor.HandleAsync (load, decrypt, compile, run, record) | {F(hMed)} | {F(Stats.Percentile(handler, 95))} | {F(handler.Min())} | |");
            Report.Line($"| overhead = median of paired (handler − runner) differences (difference of the medians: {F(hMed - dMed)}) | {F(overhead)} | {F(Stats.Percentile(diffs, 95))} | | ≤ 10 ms: {(ok3 ? "met" : "MISSED")} |");
            Report.Line();
            Report.Line($"Executions recorded: {statuses}");
        }
        finally
        {
            if (!keep)
            {
                NpgsqlConnection.ClearAllPools();
                await DropAsync(adminCs, CatalogDb);
                await DropAsync(adminCs, SourceDb);
            }
        }
        return failures == 0 ? 0 : 1;
    }

    /// <summary>A rule set as one field_checks run and as ten separate runs; both must report the same failing rows.</summary>
    private sealed record RuleSetRuns(Func<Task> One, Func<Task> Ten, Func<bool> Agree, Func<string> Failing);

    private static RuleSetRuns RuleSet(List<FieldRule> rules, CheckRunner runner, PostgresSourceConfig source, PostgresCredentials creds, TableRef table)
    {
        var one = PostgresCheckDialect.Instance.Compile(new CheckDefinition(new FieldChecksConfig(table, rules)));
        var ten = rules.Select(r => PostgresCheckDialect.Instance.Compile(new CheckDefinition(Separate(table, r)))).ToList();
        CheckOutcome? oneOutcome = null;
        var tenMetrics = new double?[ten.Count];
        return new RuleSetRuns(
            async () => oneOutcome = await Ok(runner.RunAsync(one, source, creds, default)),
            async () =>
            {
                for (var i = 0; i < ten.Count; i++) tenMetrics[i] = (await Ok(runner.RunAsync(ten[i], source, creds, default))).Metric;
            },
            () => oneOutcome is not null && oneOutcome.Rules.Select(r => r.Metric).SequenceEqual(tenMetrics),
            () => oneOutcome is null ? "-" : string.Join(", ", oneOutcome.Rules.Select(r => $"{r.Name} {r.Metric:N0}")));
    }

    /// <summary>One warm-up round, then <paramref name="runs"/> rounds timing every work once, starting one later each round.</summary>
    private static async Task<List<double>[]> InterleavedAsync(int runs, params Func<Task>[] works)
    {
        foreach (var work in works) await work();
        var times = works.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < runs; round++)
        {
            for (var k = 0; k < works.Length; k++)
            {
                var w = (round + k) % works.Length;
                var start = Stopwatch.GetTimestamp();
                await works[w]();
                times[w].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        return times;
    }

    /// <summary>The median over rounds of a / b measured in the same round.</summary>
    private static double Ratio(List<double> a, List<double> b) => Stats.Percentile(a.Zip(b, (x, y) => x / y).ToList(), 50);

    private static string Best(List<double> times) => F(times.Min());

    private static string Median(List<double> times) => F(Stats.Percentile(times, 50));

    /// <summary>Ten row-by-row rules of the kinds most checks are made of: four not-null, four ranges, two accepted-values lists.</summary>
    private static List<FieldRule> TypicalRules() =>
    [
        new("name_not_null", "name", FieldRuleKind.NotNull),
        new("city_not_null", "city", FieldRuleKind.NotNull),
        new("code_not_null", "code", FieldRuleKind.NotNull),
        new("email_not_null", "email", FieldRuleKind.NotNull),
        new("id_range", "id", FieldRuleKind.Range, Min: 1),
        new("amount_range", "amount", FieldRuleKind.Range, Min: 0, Max: 1000),
        new("qty_range", "qty", FieldRuleKind.Range, Min: 0, Max: 100),
        new("score_range", "score", FieldRuleKind.Range, Min: 0, Max: 1),
        new("status_accepted", "status", FieldRuleKind.AcceptedValues, Values: ["new", "paid", "shipped", "delivered", "cancelled"]),
        new("city_accepted", "city", FieldRuleKind.AcceptedValues, Values: ["Paris", "Berlin", "Madrid", "Lisbon", "Vienna"]),
    ];

    /// <summary>Ten rules over eight columns: four not-null, three ranges, two regex patterns, one accepted-values list.</summary>
    private static List<FieldRule> RegexRules() =>
    [
        new("name_not_null", "name", FieldRuleKind.NotNull),
        new("city_not_null", "city", FieldRuleKind.NotNull),
        new("code_not_null", "code", FieldRuleKind.NotNull),
        new("email_not_null", "email", FieldRuleKind.NotNull),
        new("amount_range", "amount", FieldRuleKind.Range, Min: 0, Max: 1000),
        new("qty_range", "qty", FieldRuleKind.Range, Min: 0, Max: 100),
        new("score_range", "score", FieldRuleKind.Range, Min: 0, Max: 1),
        new("email_pattern", "email", FieldRuleKind.Pattern, Pattern: "^[a-z0-9._]+@[a-z0-9.-]+\\.[a-z]{2,}$"),
        new("code_pattern", "code", FieldRuleKind.Pattern, Pattern: "^[A-Z]{3}-[0-9]{4}$"),
        new("status_accepted", "status", FieldRuleKind.AcceptedValues, Values: ["new", "paid", "shipped", "delivered", "cancelled"]),
    ];

    private static CheckConfig Separate(TableRef table, FieldRule r) => r.Kind switch
    {
        FieldRuleKind.NotNull => new NullCheckConfig(table, r.Column),
        FieldRuleKind.Range => new RangeCheckConfig(table, r.Column, r.Min, r.Max),
        FieldRuleKind.Pattern => new PatternCheckConfig(table, r.Column, r.Pattern!),
        _ => new AcceptedValuesConfig(table, r.Column, r.Values!),
    };

    private static async Task<CheckOutcome> Ok(Task<CheckOutcome> run)
    {
        var outcome = await run;
        if (outcome.Status == CheckStatus.Error) throw new InvalidOperationException($"check failed: {outcome.Message}\n{outcome.Sql}");
        return outcome;
    }

    private static string F(double ms) => Stats.F(ms);

    /// <summary>A bare statement on a fresh unpooled connection, as the runner opens one per run.</summary>
    private static async Task BareAsync(string cs, string sql)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) for (var c = 0; c < r.FieldCount; c++) r.GetValue(c);
    }

    private static async Task<string> CreateSourceAsync(string adminCs, string sourceCs, long rows)
    {
        await RecreateAsync(adminCs, SourceDb);
        await using var conn = new NpgsqlConnection(sourceCs);
        await conn.OpenAsync();
        // Known answers: name NULL every 100th row, city every 50th, code every 20th, email every 40th;
        // amount outside [0, 1000] every 1000th, qty outside [0, 100] every 500th, score outside [0, 1] every 250th;
        // email malformed every 200th (i % 200 = 7), code malformed every 300th (i % 300 = 7), status not accepted every 400th.
        var sql = string.Create(CultureInfo.InvariantCulture, $"""
            CREATE TABLE public.t (
                id bigint PRIMARY KEY, name text, city text, code text, email text,
                amount numeric(12,2), qty integer, score double precision, status text, created_at timestamptz NOT NULL);
            INSERT INTO public.t
            SELECT i,
                   CASE WHEN i % 100 = 0 THEN NULL ELSE 'customer ' || i END,
                   CASE WHEN i % 50 = 0 THEN NULL ELSE (ARRAY['Paris','Berlin','Madrid','Rome','Lisbon','Vienna'])[1 + i % 6] END,
                   CASE WHEN i % 20 = 0 THEN NULL WHEN i % 300 = 7 THEN 'bad' || i
                        ELSE chr(65 + (i % 26)::int) || chr(65 + (i / 26 % 26)::int) || chr(65 + (i / 676 % 26)::int) || '-' || lpad((i % 10000)::text, 4, '0') END,
                   CASE WHEN i % 40 = 0 THEN NULL WHEN i % 200 = 7 THEN 'user' || i || '-at-example'
                        ELSE 'user' || i || '@example.com' END,
                   CASE WHEN i % 1000 = 0 THEN -5 ELSE (i % 100000) / 100.0 END,
                   CASE WHEN i % 500 = 0 THEN 150 ELSE (i % 101)::int END,
                   CASE WHEN i % 250 = 0 THEN 1.5 ELSE (i % 997) / 997.0 END,
                   CASE WHEN i % 400 = 0 THEN 'unknown' ELSE (ARRAY['new','paid','shipped','delivered','cancelled'])[1 + i % 5] END,
                   timestamptz '2026-01-01' + i * interval '1 second'
            FROM generate_series(1, {rows}) AS i;
            CREATE TABLE public.one (id integer);
            INSERT INTO public.one VALUES (1);
            VACUUM ANALYZE public.t;
            VACUUM ANALYZE public.one;
            """);
        foreach (var statement in sql.Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            await using var cmd = new NpgsqlCommand(statement, conn);
            await cmd.ExecuteNonQueryAsync();
        }
        await using var size = new NpgsqlCommand("SELECT pg_size_pretty(pg_table_size('public.t'))", conn);
        return (string)(await size.ExecuteScalarAsync())!;
    }

    private static async Task RecreateAsync(string adminCs, string database)
    {
        await DropAsync(adminCs, database);
        await using var admin = new NpgsqlConnection(adminCs);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin);
        await create.ExecuteNonQueryAsync();
    }

    private static async Task DropAsync(string adminCs, string database)
    {
        await using var admin = new NpgsqlConnection(adminCs);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    private static async Task<QualityCheck> ArrangeCatalogAsync(IServiceProvider services, string sourceCs)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
        await db.Database.MigrateAsync();
        var user = new User { Email = "bench@example.com", DisplayName = "Bench", IsSuperadmin = true };
        db.Users.Add(user);
        var space = new Space { Slug = SpaceSlug, Name = "Quality benchmark" };
        db.Spaces.Add(space);
        await db.SaveChangesAsync();
        var me = new AuthenticatedUser(user.Id, user.Email, user.DisplayName, true, AuthMethod.ApiKey);
        scope.ServiceProvider.GetRequiredService<CurrentUser>().SignIn(me);
        var connectors = scope.ServiceProvider.GetRequiredService<ConnectorService>();
        var cs = new NpgsqlConnectionStringBuilder(sourceCs);
        var config = System.Text.Json.JsonSerializer.SerializeToElement(new { host = cs.Host, port = cs.Port, database = cs.Database, ssl_mode = "disable" });
        var connector = await connectors.CreateAsync(SpaceSlug, new CreateConnectorRequest { Name = "source", Platform = "postgresql", Config = config, MergeStrategy = MergeStrategy.Refresh }, default);
        var credentials = System.Text.Json.JsonSerializer.SerializeToElement(new { username = cs.Username, password = cs.Password });
        await connectors.SetCredentialsAsync(SpaceSlug, connector.Id, credentials, default);
        var check = new QualityCheck
        {
            SpaceId = space.Id, Slug = "one-row", Name = "one row", CheckType = CheckTypes.RowCount,
            Config = CheckConfigJson.Write(new RowCountConfig(new TableRef("public", "one"))),
            CriticalThreshold = CheckConfigJson.Write(Threshold.Lte(1)), ConnectorId = connector.Id,
        };
        db.QualityChecks.Add(check);
        await db.SaveChangesAsync();
        return check;
    }

    /// <summary>Queues a fresh execution (not timed), then times the queue handler's whole path for it.</summary>
    private static async Task<double> HandleOnceAsync(IServiceProvider services, QualityCheck check, int seq)
    {
        CheckQueueMessage message;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
            var execution = CheckExecutor.NewExecution(check, ExecutionTrigger.Manual, null, $"bench:{seq}");
            db.CheckExecutions.Add(execution);
            await db.SaveChangesAsync();
            message = CheckExecutor.MessageFor(execution);
        }
        var start = Stopwatch.GetTimestamp();
        await using (var scope = services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<CheckExecutor>().HandleAsync(message, 1, default);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static async Task<double> DirectOnceAsync(CheckRunner runner, CompiledCheck check, PostgresSourceConfig source, PostgresCredentials creds)
    {
        var start = Stopwatch.GetTimestamp();
        await Ok(runner.RunAsync(check, source, creds, default));
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static async Task<string> StatusesAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
        var groups = await db.CheckExecutions.GroupBy(e => e.Status).Select(g => new { g.Key, N = g.Count() }).ToListAsync();
        return string.Join(", ", groups.Select(g => $"{g.Key.ToString().ToLowerInvariant()}×{g.N}"));
    }
}
