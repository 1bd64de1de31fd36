using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Qarion.Benchmarks;

internal static class Report
{
    public static void Line(string s = "") => Console.WriteLine(s);
}

/// <summary>One measured operation: a service call and the bare SQL beside it, run for the same variant.</summary>
internal sealed class Operation(string kind, string name, double targetP95Ms, int iterations, IReadOnlyList<string> variants,
    Func<string, Task> service, Func<string, Task> bare)
{
    public string Kind { get; } = kind;
    public string Name { get; } = name;
    public double TargetP95Ms { get; } = targetP95Ms;
    public int Iterations { get; } = iterations;
    public IReadOnlyList<string> Variants { get; } = variants;
    public Func<string, Task> Service { get; } = service;
    public Func<string, Task> Bare { get; } = bare;

    public List<double> ServiceMs { get; } = [];
    public List<double> BareMs { get; } = [];
    public Dictionary<string, List<double>> ServiceByVariant { get; } = [];
    public Dictionary<string, List<double>> BareByVariant { get; } = [];
    public bool StoppedByBudget { get; set; }

    /// <summary>Warm-up (each variant twice, cut short after a third of the budget), then iterations cycling through the variants, service and bare interleaved.</summary>
    public async Task RunAsync(TimeSpan budget)
    {
        var clock = Stopwatch.StartNew();
        foreach (var v in Variants.Concat(Variants))
        {
            await Service(v);
            await Bare(v);
            if (clock.Elapsed > budget / 3) break; // a very slow operation: one warm-up pair is enough
        }
        clock.Restart();
        for (var i = 0; i < Iterations; i++)
        {
            var v = Variants[i % Variants.Count];
            // Alternate which runs first, so neither side always gets the warmer cache.
            if (i % 2 == 0)
            {
                Record(ServiceMs, ServiceByVariant, v, await Time(() => Service(v)));
                Record(BareMs, BareByVariant, v, await Time(() => Bare(v)));
            }
            else
            {
                Record(BareMs, BareByVariant, v, await Time(() => Bare(v)));
                Record(ServiceMs, ServiceByVariant, v, await Time(() => Service(v)));
            }
            if (clock.Elapsed > budget && i + 1 >= 5)
            {
                StoppedByBudget = i + 1 < Iterations;
                break;
            }
        }
    }

    private static void Record(List<double> all, Dictionary<string, List<double>> byVariant, string v, double ms)
    {
        all.Add(ms);
        if (!byVariant.TryGetValue(v, out var list)) byVariant[v] = list = [];
        list.Add(ms);
    }

    private static async Task<double> Time(Func<Task> work)
    {
        var start = Stopwatch.GetTimestamp();
        await work();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}

internal static class Stats
{
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length); // nearest rank
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(v >= 100 ? "F0" : "F2", CultureInfo.InvariantCulture);
}

/// <summary>A statement EF Core executed (captured through its DiagnosticSource events), with cloned parameters.</summary>
internal sealed record CapturedCommand(string Sql, IReadOnlyList<NpgsqlParameter> Parameters, double Ms);

/// <summary>Captures the SQL EF Core runs while <see cref="Enabled"/> (used once per slow case, never during timing).</summary>
internal sealed class EfCommandCapture : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    public static readonly EfCommandCapture Instance = new();
    private readonly List<IDisposable> _subscriptions = [];

    public bool Enabled { get; set; }
    public List<CapturedCommand> Commands { get; } = [];

    public void OnNext(DiagnosticListener value)
    {
        if (value.Name == DbLoggerCategory.Name) _subscriptions.Add(value.Subscribe(this, name => name == RelationalEventId.CommandExecuted.Name));
    }

    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (!Enabled || value.Value is not CommandExecutedEventData data) return;
        var parameters = data.Command.Parameters.Cast<DbParameter>().OfType<NpgsqlParameter>().Select(p => p.Clone()).ToList();
        Commands.Add(new CapturedCommand(data.Command.CommandText, parameters, data.Duration.TotalMilliseconds));
    }

    public void OnCompleted() { }
    public void OnError(Exception error) { }
}

/// <summary>EXPLAIN (ANALYZE, BUFFERS) summaries: the plan tree one node a line, and which indexes were used.</summary>
internal static class Explain
{
    public static async Task PrintAsync(NpgsqlDataSource dataSource, string title, string sql, IEnumerable<NpgsqlParameter> parameters)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, conn) { CommandTimeout = 300 };
        foreach (var p in parameters) cmd.Parameters.Add(p.Clone());
        var json = (string)(await cmd.ExecuteScalarAsync())!;
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement[0];
        var plan = root.GetProperty("Plan");
        var indexes = new SortedSet<string>(StringComparer.Ordinal);
        var seqScans = new SortedSet<string>(StringComparer.Ordinal);
        var lines = new List<string>();
        Walk(plan, 0, lines, indexes, seqScans);
        Report.Line($"    -- {title}: execution {root.GetProperty("Execution Time").GetDouble():F2} ms, planning {root.GetProperty("Planning Time").GetDouble():F2} ms");
        foreach (var l in lines.Take(45)) Report.Line("       " + l);
        if (lines.Count > 45) Report.Line($"       … {lines.Count - 45} more plan nodes");
        Report.Line("       indexes used: " + (indexes.Count == 0 ? "none" : string.Join(", ", indexes.Select(Classify))));
        Report.Line("       sequential scans: " + (seqScans.Count == 0 ? "none" : string.Join(", ", seqScans)));
    }

    private static string Classify(string index) => index switch
    {
        var i when i.EndsWith("_trgm", StringComparison.Ordinal) => i + " [GIN trigram]",
        "ix_data_product_search_document" => index + " [GIN tsvector]",
        _ => index + " [btree]",
    };

    private static void Walk(JsonElement node, int depth, List<string> lines, SortedSet<string> indexes, SortedSet<string> seqScans)
    {
        var sb = new StringBuilder();
        sb.Append(new string(' ', depth * 2)).Append(node.GetProperty("Node Type").GetString());
        if (node.TryGetProperty("Strategy", out var strategy) && node.GetProperty("Node Type").GetString() is "Aggregate" or "SetOp")
            sb.Append(" (").Append(strategy.GetString()).Append(')');
        if (node.TryGetProperty("Relation Name", out var rel))
        {
            sb.Append(" on ").Append(rel.GetString());
            if (node.GetProperty("Node Type").GetString() == "Seq Scan") seqScans.Add(rel.GetString()!);
        }
        if (node.TryGetProperty("CTE Name", out var cte)) sb.Append(" [CTE ").Append(cte.GetString()).Append(']');
        if (node.TryGetProperty("Index Name", out var ix))
        {
            sb.Append(" using ").Append(ix.GetString());
            indexes.Add(ix.GetString()!);
        }
        if (node.TryGetProperty("Actual Total Time", out var t))
        {
            var loops = node.GetProperty("Actual Loops").GetInt64();
            sb.Append(CultureInfo.InvariantCulture, $"  rows={node.GetProperty("Actual Rows").GetDouble():F0} loops={loops} time={t.GetDouble():F2}ms");
            if (loops > 1) sb.Append(CultureInfo.InvariantCulture, $" (×{loops} = {t.GetDouble() * loops:F1}ms)");
        }
        if (node.TryGetProperty("Rows Removed by Filter", out var removed) && removed.GetDouble() > 0)
            sb.Append(CultureInfo.InvariantCulture, $" removed_by_filter={removed.GetDouble():F0}");
        if (node.TryGetProperty("Rows Removed by Index Recheck", out var recheck) && recheck.GetDouble() > 0)
            sb.Append(CultureInfo.InvariantCulture, $" removed_by_recheck={recheck.GetDouble():F0}");
        if (node.TryGetProperty("Sort Method", out var sort)) sb.Append(" sort=").Append(sort.GetString());
        if (node.TryGetProperty("Shared Hit Blocks", out var hit) && node.TryGetProperty("Shared Read Blocks", out var read))
            sb.Append(CultureInfo.InvariantCulture, $" buf(hit={hit.GetInt64()} read={read.GetInt64()})");
        lines.Add(sb.ToString());
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray()) Walk(child, depth + 1, lines, indexes, seqScans);
    }
}
