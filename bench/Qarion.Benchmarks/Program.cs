// Benchmark of product list, search and lineage over a bulk-loaded catalog. Run: scripts/bench [--products N] [--keep].
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Qarion.Benchmarks;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Lineage;
using Qarion.Core.Persistence;
using Qarion.Core.Search;
using Qarion.Functions;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args is ["ingestion", ..])
{
    var pgAdmin = Environment.GetEnvironmentVariable("QARION_TEST_PG") is { Length: > 0 } pga ? pga
        : "Host=127.0.0.1;Port=54329;Username=qarion;Password=qarion;Database=qarion";
    return await IngestionBench.RunAsync(args[1..], pgAdmin,
        Environment.GetEnvironmentVariable("AzureWebJobsStorage") ?? "UseDevelopmentStorage=true");
}
if (args is ["quality", ..])
{
    var pgAdmin = Environment.GetEnvironmentVariable("QARION_TEST_PG") is { Length: > 0 } pga ? pga
        : "Host=127.0.0.1;Port=54329;Username=qarion;Password=qarion;Database=qarion";
    return await QualityBench.RunAsync(args[1..], pgAdmin,
        Environment.GetEnvironmentVariable("AzureWebJobsStorage") ?? "UseDevelopmentStorage=true");
}
var products = 100_000;
var keep = false;
var budget = TimeSpan.FromSeconds(90);
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--products" when i + 1 < args.Length: products = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--keep": keep = true; break;
        case "--budget" when i + 1 < args.Length: budget = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
        case "-h" or "--help":
            Console.WriteLine("usage: scripts/bench [--products N (default 100000)] [--keep (reuse a loaded qarion_bench)] [--budget SECONDS per operation (default 90)]");
            return 0;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}' (try --help)");
            return 2;
    }
}
if (products < 100) { Console.Error.WriteLine("--products must be at least 100"); return 2; }

const string Database = "qarion_bench";
var adminCs = Environment.GetEnvironmentVariable("QARION_TEST_PG") is { Length: > 0 } pg ? pg
    : "Host=127.0.0.1;Port=54329;Username=qarion;Password=qarion;Database=qarion";
var benchCs = new NpgsqlConnectionStringBuilder(adminCs) { Database = Database, Pooling = true, MaxPoolSize = 20 }.ConnectionString;
var storage = Environment.GetEnvironmentVariable("AzureWebJobsStorage") is { Length: > 0 } s ? s
    : "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;";

Report.Line("Qarion benchmark");
Report.Line("================");
await Machine.PrintAsync(adminCs);

// ------------------------------------------------------------------ load ----
Report.Line();
if (keep && await DataLoader.IsLoadedAsync(adminCs, Database, benchCs))
    Report.Line($"Load: --keep, reusing the loaded database {Database}");
else
{
    Report.Line($"Load: database {Database}, {products:N0} products (binary COPY)");
    await DataLoader.LoadAsync(adminCs, Database, benchCs, products);
}

await using var bareSource = PersistenceExtensions.CreateDataSource(benchCs);
var ctx = await BenchContext.ReadAsync(bareSource);
Report.Line();
Report.Line($"Data: {ctx.Products:N0} products ({ctx.Visible:N0} not archived), {ctx.Fields:N0} fields, {ctx.Tags:N0} tags, {ctx.ProductTags:N0} product tags, {ctx.Edges:N0} lineage edges");
Report.Line($"      sizes: {ctx.Sizes}");

// ------------------------------------------------------------- the app ----
DiagnosticListener.AllListeners.Subscribe(EfCommandCapture.Instance);
var builder = FunctionsApplication.CreateBuilder([]);
QarionApp.Configure(builder);
// After Configure, so these win over every earlier source (scripts/services exports ConnectionStrings__Qarion for the shared db).
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["ConnectionStrings:Qarion"] = benchCs,
    ["AzureWebJobsStorage"] = storage,
    ["Qarion:Telemetry:Enabled"] = "false",
    // As in host.json, where EF command logging is at Warning; nothing is logged per call.
    ["Logging:LogLevel:Default"] = "Warning",
});
builder.Logging.SetMinimumLevel(LogLevel.Warning);
using var host = builder.Build(); // never started
var admin = new AuthenticatedUser(ctx.UserId, DataLoader.UserEmail, DataLoader.UserName, true, AuthMethod.ApiKey);

async Task<T> InScope<T>(Func<IServiceProvider, Task<T>> call)
{
    await using var scope = host.Services.CreateAsyncScope();
    scope.ServiceProvider.GetRequiredService<CurrentUser>().SignIn(admin);
    return await call(scope.ServiceProvider);
}

// ------------------------------------------------------------ operations ----
var deepPage = Math.Max(2, ctx.Visible / 20 / 2);
var searchQueries = new List<string>
{
    "customer", "customer orders", "dim_customer_orders", "custmer", "revnue daily", "fct_sales", "sesion events", "pii",
    "marketing attribution", "order_date", "inventory snapshot", "churn", "finanse", "payment method", "stg_payment",
    "shipment tracking", "acount balance", "ltv cohort", ctx.ExactName, "warehouse",
};
string[] productsOnly = ["products"];

async Task BareList(bool tag, bool search, int page, string? tagId, string? term)
{
    await using var conn = await bareSource.OpenConnectionAsync();
    var pattern = term is null ? null : Qarion.Core.Common.Text.ContainsPattern(term);
    void Bind(NpgsqlCommand c)
    {
        c.Parameters.AddWithValue("space", ctx.SpaceId);
        if (tag) c.Parameters.AddWithValue("tag", Guid.Parse(tagId!));
        if (search) c.Parameters.AddWithValue("pattern", pattern!);
    }
    await using (var count = new NpgsqlCommand(BareSql.ListCount(tag, search), conn))
    {
        Bind(count);
        await count.ExecuteScalarAsync();
    }
    await using var cmd = new NpgsqlCommand(BareSql.ListPage(tag, search), conn);
    Bind(cmd);
    cmd.Parameters.AddWithValue("limit", 20);
    cmd.Parameters.AddWithValue("offset", (page - 1) * 20);
    await Drain(cmd);
}

async Task BareSearch(string q, bool all)
{
    await using var conn = await bareSource.OpenConnectionAsync();
    // The service runs search in a read-only transaction with this threshold; so does the bare run.
    await using var tx = await conn.BeginTransactionAsync();
    await using (var setup = new NpgsqlCommand("SET TRANSACTION READ ONLY; SELECT set_config('pg_trgm.word_similarity_threshold', '0.45', true)", conn, tx))
        await setup.ExecuteNonQueryAsync();
    foreach (var sql in all ? new[] { BareSql.SearchProducts, BareSql.SearchFields, BareSql.SearchTags } : new[] { BareSql.SearchProducts })
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        BindSearch(cmd, q);
        await Drain(cmd);
    }
}

void BindSearch(NpgsqlCommand cmd, string q)
{
    cmd.Parameters.AddWithValue("space", ctx.SpaceId);
    cmd.Parameters.AddWithValue("q", q);
    cmd.Parameters.AddWithValue("like", Qarion.Core.Common.Text.ContainsPattern(q));
    cmd.Parameters.AddWithValue("limit", 20);
    cmd.Parameters.AddWithValue("candidates", Qarion.Core.Search.SearchService.Candidates);
    cmd.Parameters.AddWithValue("field_candidates", Qarion.Core.Search.SearchService.FieldCandidates);
}

async Task BareWalk(string root)
{
    await using var conn = await bareSource.OpenConnectionAsync();
    await using var cmd = new NpgsqlCommand(BareSql.LineageWalk, conn);
    BindWalk(cmd, root);
    await Drain(cmd);
}

void BindWalk(NpgsqlCommand cmd, string root)
{
    cmd.Parameters.AddWithValue("root", Guid.Parse(root));
    cmd.Parameters.AddWithValue("up", 5);
    cmd.Parameters.AddWithValue("down", 5);
    cmd.Parameters.AddWithValue("limit", (LineageService.MaxNodes + 1) * 2);
}

static async Task Drain(NpgsqlCommand cmd)
{
    await using var r = await cmd.ExecuteReaderAsync();
    while (await r.ReadAsync())
        for (var c = 0; c < r.FieldCount; c++) r.GetValue(c);
}

Task ServiceList(ProductListQuery q, int page) => InScope(sp =>
    sp.GetRequiredService<ProductService>().ListAsync(DataLoader.SpaceSlug, q, new PageRequest(page, 20), default));

var ops = new List<Operation>
{
    new("list", "list page 1 (sort name)", 20, 200, ["-"],
        _ => ServiceList(new ProductListQuery(), 1), _ => BareList(false, false, 1, null, null)),
    new("list", $"list deep page {deepPage}", 20, 200, ["-"],
        _ => ServiceList(new ProductListQuery(), deepPage), _ => BareList(false, false, deepPage, null, null)),
    new("list", $"list tag '{ctx.PopularTagName}' ({ctx.PopularTagUses:N0} uses)", 20, 200, [ctx.PopularTagId.ToString()],
        v => ServiceList(new ProductListQuery(Tags: [Guid.Parse(v)]), 1), v => BareList(true, false, 1, v, null)),
    new("list", $"list tag '{ctx.RareTagName}' ({ctx.RareTagUses:N0} uses)", 20, 200, [ctx.RareTagId.ToString()],
        v => ServiceList(new ProductListQuery(Tags: [Guid.Parse(v)]), 1), v => BareList(true, false, 1, v, null)),
    new("list", "list search 'customer'", 20, 200, ["customer"],
        v => ServiceList(new ProductListQuery(Search: v), 1), v => BareList(false, true, 1, null, v)),
    new("list", "list search 'ledger_balances'", 20, 200, ["ledger_balances"],
        v => ServiceList(new ProductListQuery(Search: v), 1), v => BareList(false, true, 1, null, v)),
    new("search", $"search products ({searchQueries.Count} queries)", 50, 100, searchQueries,
        v => InScope(sp => sp.GetRequiredService<SearchService>().SearchAsync(DataLoader.SpaceSlug, v, productsOnly, 20, default)),
        v => BareSearch(v, false)),
    new("search", $"search all types ({searchQueries.Count} queries)", 50, 100, searchQueries,
        v => InScope(sp => sp.GetRequiredService<SearchService>().SearchAsync(DataLoader.SpaceSlug, v, null, 20, default)),
        v => BareSearch(v, true)),
    new("lineage", $"lineage both depth 5 ({ctx.Roots.Count} roots)", 50, 100, ctx.Roots,
        v => InScope(sp => sp.GetRequiredService<LineageService>().TraverseAsync(DataLoader.SpaceSlug, v, LineageDirection.Both, 5, default)),
        v => BareWalk(v)),
};

Report.Line();
Report.Line($"Measuring (warm-up: every variant twice, or less for very slow operations; then service and bare SQL interleaved; at most {budget.TotalSeconds:F0} s per operation)");
var runClock = Stopwatch.StartNew();
foreach (var op in ops)
{
    Console.Error.WriteLine($"  … {op.Name}");
    await op.RunAsync(budget);
}
Report.Line($"  measured in {runClock.Elapsed.TotalSeconds:F0} s; load average now {Machine.LoadAverage()}");

Report.Line();
Report.Line("Results (ms; service = real DI scope + CurrentUser + service call; bare = the minimal SQL via plain Npgsql)");
Report.Line($"{"operation",-44} {"n",4} | {"svc p50",8} {"svc p95",8} {"svc max",8} | {"bare p50",8} {"bare p95",8} {"bare max",8} | {"x p50",6} {"x p95",6} | {"target",8} result");
Report.Line(new string('-', 150));
foreach (var op in ops)
{
    double sp50 = Stats.Percentile(op.ServiceMs, 50), sp95 = Stats.Percentile(op.ServiceMs, 95), smax = op.ServiceMs.Max();
    double bp50 = Stats.Percentile(op.BareMs, 50), bp95 = Stats.Percentile(op.BareMs, 95), bmax = op.BareMs.Max();
    var pass = sp95 <= op.TargetP95Ms ? "PASS" : "FAIL";
    Report.Line($"{Trunc(op.Name, 44),-44} {op.ServiceMs.Count,4}{(op.StoppedByBudget ? "*" : " ")}| {Stats.F(sp50),8} {Stats.F(sp95),8} {Stats.F(smax),8} | {Stats.F(bp50),8} {Stats.F(bp95),8} {Stats.F(bmax),8} | {sp50 / bp50,6:F2} {sp95 / bp95,6:F2} | p95≤{op.TargetP95Ms,3:F0} {pass}");
}
if (ops.Any(o => o.StoppedByBudget)) Report.Line("  * stopped early by the per-operation time budget (--budget)");

// Per-variant detail for search and lineage: which queries/roots are slow.
foreach (var op in ops.Where(o => o.Variants.Count > 1))
{
    Report.Line();
    Report.Line($"Per variant: {op.Name} (service p50 / bare p50 ms, n each)");
    foreach (var (v, times) in op.ServiceByVariant.OrderByDescending(kv => Stats.Percentile(kv.Value, 50)))
    {
        var label = op.Kind == "lineage" ? $"{v} ({ctx.RootInfo[v]})" : $"'{v}'";
        Report.Line($"  {Trunc(label, 70),-70} {Stats.F(Stats.Percentile(times, 50)),8} / {Stats.F(Stats.Percentile(op.BareByVariant[v], 50)),8}  n={times.Count}");
    }
}

// ------------------------------------------------------------- EXPLAIN ----
Report.Line();
Report.Line("EXPLAIN (ANALYZE, BUFFERS) of the slowest case of each kind");
foreach (var kind in new[] { "list", "search", "lineage" })
{
    var (op, variant) = ops.Where(o => o.Kind == kind)
        .SelectMany(o => o.ServiceByVariant.Select(kv => (Op: o, Variant: kv.Key, P95: Stats.Percentile(kv.Value, 95))))
        .OrderByDescending(x => x.P95).Select(x => (x.Op, x.Variant)).First();
    Report.Line();
    Report.Line($"  [{kind}] slowest: {op.Name}, variant {(op.Kind == "lineage" ? variant + " (" + ctx.RootInfo[variant] + ")" : "'" + variant + "'")}");

    // The statements EF runs for it (raw Npgsql commands in SearchService/LineageService are not seen here).
    EfCommandCapture.Instance.Commands.Clear();
    EfCommandCapture.Instance.Enabled = true;
    await op.Service(variant);
    EfCommandCapture.Instance.Enabled = false;
    var captured = EfCommandCapture.Instance.Commands.ToList();
    Report.Line($"    EF statements in one service call: {captured.Count} ({string.Join(", ", captured.Select(c => c.Ms.ToString("F2", CultureInfo.InvariantCulture) + " ms"))})"
        + (kind == "list" ? "" : " + the raw Npgsql statement(s) below"));

    if (kind == "list")
    {
        var n = 1;
        foreach (var c in captured)
            await Explain.PrintAsync(bareSource, $"EF statement {n++} ({FirstLine(c.Sql)})", c.Sql, c.Parameters);
    }
    else if (kind == "search")
    {
        var all = op.Name.StartsWith("search all", StringComparison.Ordinal);
        foreach (var (title, sql) in all
                     ? new[] { ("products SQL", BareSql.SearchProducts), ("fields SQL", BareSql.SearchFields), ("tags SQL", BareSql.SearchTags) }
                     : new[] { ("products SQL", BareSql.SearchProducts) })
        {
            await using var cmd = new NpgsqlCommand();
            BindSearch(cmd, variant);
            await Explain.PrintAsync(bareSource, title, sql, cmd.Parameters.Cast<NpgsqlParameter>().ToList());
        }
        // Also the worst query for the products-only search, when the slowest op was "all types".
        if (all)
        {
            var productsOp = ops.First(o => o.Name.StartsWith("search products", StringComparison.Ordinal));
            var worst = productsOp.ServiceByVariant.OrderByDescending(kv => Stats.Percentile(kv.Value, 95)).First().Key;
            await using var cmd = new NpgsqlCommand();
            BindSearch(cmd, worst);
            await Explain.PrintAsync(bareSource, $"products SQL, slowest products-only query '{worst}'", BareSql.SearchProducts, cmd.Parameters.Cast<NpgsqlParameter>().ToList());
        }
    }
    else
    {
        await using (var cmd = new NpgsqlCommand())
        {
            BindWalk(cmd, variant);
            await Explain.PrintAsync(bareSource, "recursive walk (raw Npgsql)", BareSql.LineageWalk, cmd.Parameters.Cast<NpgsqlParameter>().ToList());
        }
        var n = 1;
        foreach (var c in captured)
            await Explain.PrintAsync(bareSource, $"EF statement {n++} ({FirstLine(c.Sql)})", c.Sql, c.Parameters);
    }
}

Report.Line();
Report.Line($"Done. Load average at the end: {Machine.LoadAverage()} (2-core machine shared with other work: timings are noisy).");
return 0;

static string Trunc(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";
static string FirstLine(string sql)
{
    var line = sql.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)) ?? sql;
    return Trunc(line, 70);
}

internal sealed record BenchContext(
    Guid SpaceId, Guid UserId, int Products, int Visible, long Fields, long Tags, long ProductTags, long Edges, string Sizes,
    Guid PopularTagId, string PopularTagName, long PopularTagUses, Guid RareTagId, string RareTagName, long RareTagUses,
    string ExactName, List<string> Roots, Dictionary<string, string> RootInfo)
{
    public static async Task<BenchContext> ReadAsync(NpgsqlDataSource ds)
    {
        await using var conn = await ds.OpenConnectionAsync();
        async Task<T> Scalar<T>(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, conn);
            return (T)(await cmd.ExecuteScalarAsync())!;
        }
        var spaceId = await Scalar<Guid>("SELECT id FROM spaces WHERE slug = 'bench'");
        var userId = await Scalar<Guid>($"SELECT id FROM users WHERE email = '{DataLoader.UserEmail}'");
        var products = (int)await Scalar<long>("SELECT count(*) FROM data_products");
        var visible = (int)await Scalar<long>("SELECT count(*) FROM data_products WHERE NOT is_archived");
        var fields = await Scalar<long>("SELECT count(*) FROM product_fields");
        var tags = await Scalar<long>("SELECT count(*) FROM tags");
        var productTags = await Scalar<long>("SELECT count(*) FROM product_tags");
        var edges = await Scalar<long>("SELECT count(*) FROM lineage_edges");
        var sizes = await Scalar<string>("""
            SELECT string_agg(relname || ' ' || pg_size_pretty(pg_total_relation_size(c.oid)), ', ' ORDER BY pg_total_relation_size(c.oid) DESC)
            FROM pg_class c WHERE relkind = 'r' AND relname IN ('data_products','product_fields','product_tags','lineage_edges','data_product_search','tags')
            """) + "; database " + await Scalar<string>("SELECT pg_size_pretty(pg_database_size(current_database()))");

        var tagStats = new List<(Guid Id, string Name, long Uses)>();
        await using (var cmd = new NpgsqlCommand("SELECT t.id, t.name, count(pt.product_id) FROM tags t LEFT JOIN product_tags pt ON pt.tag_id = t.id GROUP BY t.id, t.name ORDER BY 3 DESC, 2", conn))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync()) tagStats.Add((r.GetGuid(0), r.GetString(1), r.GetInt64(2)));
        var popular = tagStats[0];
        var rare = tagStats.Where(t => t.Uses > 0).MinBy(t => t.Uses);
        var exact = await Scalar<string>("SELECT name FROM data_products WHERE NOT is_archived ORDER BY id OFFSET (SELECT count(*) / 3 FROM data_products) LIMIT 1");

        // 20 random roots (fixed seed), with their direct degree for the per-root report.
        var roots = new List<string>();
        var info = new Dictionary<string, string>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT p.id, p.name,
                   (SELECT count(*) FROM lineage_edges e WHERE e.downstream_id = p.id) AS ups,
                   (SELECT count(*) FROM lineage_edges e WHERE e.upstream_id = p.id) AS downs
            FROM data_products p
            ORDER BY hashtext(p.id::text || 'bench-roots')
            LIMIT 20
            """, conn))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync())
            {
                var id = r.GetGuid(0).ToString();
                roots.Add(id);
                info[id] = $"{r.GetString(1)}, {r.GetInt64(2)} up / {r.GetInt64(3)} down direct";
            }
        return new BenchContext(spaceId, userId, products, visible, fields, tags, productTags, edges, sizes,
            popular.Id, popular.Name, popular.Uses, rare.Id, rare.Name, rare.Uses, exact, roots, info);
    }
}

internal static class Machine
{
    public static async Task PrintAsync(string adminCs)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
        var memKb = File.Exists("/proc/meminfo")
            ? long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)
            : 0;
        Report.Line($"Machine:    {Environment.ProcessorCount} cores ({cpu}), {memKb / 1024.0 / 1024.0:F1} GiB RAM, {RuntimeInformation.OSDescription}, {RuntimeInformation.OSArchitecture}");
        Report.Line($"Runtime:    {RuntimeInformation.FrameworkDescription}, {(Debugger.IsAttached ? "debugger attached" : "Release build")}");
        await using var conn = new NpgsqlConnection(adminCs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT version(), current_setting('shared_buffers'), current_setting('work_mem'), current_setting('effective_cache_size'), current_setting('random_page_cost'), current_setting('jit')", conn);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        Report.Line($"PostgreSQL: {r.GetString(0)}");
        Report.Line($"            shared_buffers={r.GetString(1)} work_mem={r.GetString(2)} effective_cache_size={r.GetString(3)} random_page_cost={r.GetString(4)} jit={r.GetString(5)} (local cluster from scripts/services, same host)");
        Report.Line($"Load avg:   {LoadAverage()} at start (another engineer builds and tests on this machine: expect noise)");
    }

    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
