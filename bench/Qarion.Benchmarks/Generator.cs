using System.Globalization;

namespace Qarion.Benchmarks;

internal sealed record GenTag(Guid Id, string Name, string Color);

internal sealed record GenProduct(
    int Index, Guid Id, string Slug, string Name, string Description, string? Documentation, string ProductType,
    string Provider, string HostingLocation, string Environment, string Criticality, string Sensitivity, bool Owned,
    bool Archived, DateTime CreatedAt, DateTime UpdatedAt, int[] TagIndexes, string Domain);

internal sealed record GenField(string Name, string DataType, string? Description, bool IsPrimaryKey, string? ForeignKeyTarget);

/// <summary>Deterministic (seeded) synthetic catalog: warehouse-style names, prose descriptions, skewed tags, a layered DAG.</summary>
internal sealed class Generator
{
    public static readonly string[] Prefixes = ["dim", "fct", "stg", "raw", "int", "mart", "rpt", "agg", "snap", "src"];
    public static readonly string[] Domains =
    [
        "customer", "order", "product", "payment", "invoice", "shipment", "inventory", "session", "user", "account",
        "campaign", "marketing", "finance", "revenue", "subscription", "churn", "supplier", "warehouse", "store", "employee",
        "payroll", "ledger", "transaction", "refund", "review", "click", "event", "device", "geo", "region",
        "sales", "lead", "opportunity", "contract", "claim", "policy", "ticket", "support", "web", "app",
    ];
    public static readonly string[] Suffixes =
    [
        "orders", "events", "daily", "monthly", "snapshot", "history", "summary", "details", "items", "lines",
        "balances", "metrics", "attribution", "funnel", "cohort", "scores", "status", "facts", "lookup", "mapping",
    ];
    private static readonly (string Type, int Weight)[] Types =
    [
        ("table", 45), ("view", 15), ("dbt_model", 12), ("dashboard", 6), ("report", 4), ("dataset", 4), ("file", 3),
        ("stream", 2), ("api", 2), ("ml_model", 2), ("materialized_view", 2), ("pipeline", 1), ("feature_set", 1), ("notebook", 1),
    ];
    private static readonly string[] Systems = ["Salesforce", "SAP", "Shopify", "Stripe", "Zendesk", "HubSpot", "Postgres OLTP", "Kafka", "Segment", "Workday"];
    private static readonly string[] Teams = ["finance", "growth", "marketing analytics", "supply chain", "customer success", "data platform", "risk", "product analytics"];
    private static readonly string[] Purposes =
    [
        "monthly revenue reporting", "churn prediction", "campaign attribution", "inventory planning", "fraud detection",
        "executive dashboards", "customer segmentation", "SLA monitoring", "demand forecasting", "regulatory reporting",
    ];
    private static readonly string[] Frequencies = ["hourly", "daily", "every 15 minutes", "weekly", "nightly"];
    private static readonly string[] Grains = ["per day", "per hour", "per transaction", "per customer", "per order line", "per session"];
    private static readonly string[] Providers = ["snowflake", "bigquery", "postgres", "databricks", "redshift", "tableau", "looker", "s3"];
    private static readonly string[] Environments = ["prod", "prod", "prod", "staging", "dev"];
    private static readonly string[] Criticalities = ["low", "medium", "medium", "high", "critical"];
    private static readonly string[] Sensitivities = ["public", "internal", "internal", "confidential", "restricted"];

    public static readonly string[] FieldNames =
    [
        "customer_id", "order_id", "product_id", "order_date", "created_at", "updated_at", "amount", "currency", "quantity", "unit_price",
        "discount", "tax_amount", "status", "email", "first_name", "last_name", "phone_number", "country_code", "region", "city",
        "postal_code", "session_id", "user_id", "event_type", "event_timestamp", "device_type", "browser", "ip_address", "campaign_id", "channel",
        "revenue", "cost", "margin", "invoice_id", "payment_method", "shipment_id", "carrier", "tracking_number", "warehouse_id", "sku",
        "category", "subcategory", "brand", "is_active", "is_deleted", "account_id", "balance", "credit_limit", "transaction_id", "transaction_date",
        "ledger_account", "employee_id", "department", "salary_band", "hire_date", "ticket_id", "priority", "resolution_time", "score", "rating",
        "review_text", "lead_source", "opportunity_stage", "contract_value", "start_date", "end_date", "renewal_date", "churn_probability", "ltv", "cohort_month",
        "first_order_date", "last_order_date", "total_orders", "avg_order_value", "load_id", "batch_id", "source_system", "ingested_at", "valid_from", "valid_to",
    ];

    private readonly Random _rng;

    public Generator(int productCount, int seed)
    {
        _rng = new Random(seed);
        Now = DateTime.SpecifyKind(new DateTime(2026, 11, 1, 12, 0, 0), DateTimeKind.Utc);
        SpaceId = Guid.CreateVersion7();
        UserId = Guid.CreateVersion7();
        Tags = MakeTags();
        Products = new GenProduct[productCount];
        for (var i = 0; i < productCount; i++) Products[i] = MakeProduct(i);
    }

    public DateTime Now { get; }
    public Guid SpaceId { get; }
    public Guid UserId { get; }
    public GenTag[] Tags { get; }
    public GenProduct[] Products { get; }

    private GenTag[] MakeTags()
    {
        var names = new List<string>
        {
            "pii", "gdpr", "sox", "hipaa", "pci", "certified", "deprecated", "experimental", "gold", "silver", "bronze",
            "tier-1", "tier-2", "tier-3", "golden-source", "self-serve", "sensitive", "public", "kpi", "finance-approved",
        };
        foreach (var d in Domains) names.Add("domain-" + d);
        foreach (var t in Teams) names.Add("team-" + t.Replace(' ', '-'));
        foreach (var s in Systems) names.Add("source-" + s.ToLowerInvariant().Replace(' ', '-'));
        foreach (var p in Prefixes) names.Add("layer-" + p);
        foreach (var s in Suffixes) names.Add("grain-" + s);
        foreach (var f in Frequencies) names.Add("refresh-" + f.Replace(' ', '-'));
        for (var q = 1; names.Count < 200; q++) names.Add($"project-{q:D3}");
        return names.Take(200).Select((n, i) => new GenTag(Guid.CreateVersion7(), n, $"#{(i * 2654435761u) & 0xFFFFFF:x6}")).ToArray();
    }

    private GenProduct MakeProduct(int i)
    {
        var type = Weighted(Types);
        var domain = Domains[_rng.Next(Domains.Length)];
        var suffix = Suffixes[_rng.Next(Suffixes.Length)];
        var number = _rng.Next(10_000).ToString("D4", CultureInfo.InvariantCulture);
        string name;
        if (type is "dashboard" or "report" or "ml_model" or "notebook")
            name = $"{Title(domain)} {Title(suffix)} {Title(type.Replace('_', ' '))} {number}";
        else
        {
            var prefix = Prefixes[_rng.Next(Prefixes.Length)];
            var second = _rng.Next(3) == 0 ? Domains[_rng.Next(Domains.Length)] + "_" : "";
            name = $"{prefix}_{domain}_{second}{suffix}_{number}";
        }
        var slugBase = new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        var slug = $"{slugBase}-{i.ToString(CultureInfo.InvariantCulture)}";
        if (slug.Length > 63) slug = slug[^63..].TrimStart('-');

        var sentences = new List<string>
        {
            $"Contains one row {Pick(Grains)} for {domain} {suffix}, sourced from the {Pick(Systems)} system.",
            $"Used by the {Pick(Teams)} team for {Pick(Purposes)}.",
            $"Refreshed {Pick(Frequencies)} by the {Pick(Prefixes)}_{domain} pipeline; late-arriving records are reconciled within {_rng.Next(1, 48)} hours.",
            $"Includes {Pick(FieldNames).Replace('_', ' ')} and {Pick(FieldNames).Replace('_', ' ')} attributes, with personal data masked for non-privileged roles.",
            $"Joins {Pick(Domains)} and {Pick(Domains)} data to support {Pick(Purposes)}.",
            $"Owned by {Pick(Teams)}; questions go to the #{domain}-data channel.",
        };
        var count = _rng.Next(2, 5);
        var description = string.Join(' ', sentences.OrderBy(_ => _rng.Next()).Take(count));
        var documentation = _rng.Next(10) == 0
            ? $"# {name}\n\nThis {type.Replace('_', ' ')} describes {domain} {suffix}.\n\n## Usage\n\nQuery it for {Pick(Purposes)}. Filter on `{Pick(FieldNames)}`.\n"
            : null;
        var created = Now.AddMinutes(-_rng.Next(0, 60 * 24 * 720));
        var updated = created.AddMinutes(_rng.Next(0, 60 * 24 * 30));
        if (updated > Now) updated = Now;
        var tagCount = _rng.Next(1, 6); // 1..5, mean 3
        var tagSet = new HashSet<int>();
        while (tagSet.Count < tagCount) tagSet.Add((int)(Tags.Length * Math.Pow(_rng.NextDouble(), 2.0))); // skewed: low indexes popular
        return new GenProduct(i, Guid.CreateVersion7(), slug, name, description, documentation, type, Pick(Providers),
            $"warehouse.{domain}.{name.ToLowerInvariant().Replace(' ', '_')}", Pick(Environments), Pick(Criticalities), Pick(Sensitivities),
            _rng.Next(10) == 0, _rng.Next(50) == 0, created, updated, [.. tagSet], domain);
    }

    /// <summary>20 distinct fields per product, deterministic per product (generated on the fly during COPY).</summary>
    public IEnumerable<GenField> FieldsFor(GenProduct p)
    {
        var rng = new Random(p.Index * 7919 + 17);
        yield return new GenField("id", "bigint", $"Surrogate key of the {p.Domain} record.", true, null);
        var used = new HashSet<int>();
        while (used.Count < 19)
        {
            var k = rng.Next(FieldNames.Length);
            if (!used.Add(k)) continue;
            var name = FieldNames[k];
            var type = name.EndsWith("_id", StringComparison.Ordinal) ? "bigint"
                : name.EndsWith("_date", StringComparison.Ordinal) || name is "cohort_month" or "valid_from" or "valid_to" ? "date"
                : name.EndsWith("_at", StringComparison.Ordinal) || name.EndsWith("timestamp", StringComparison.Ordinal) ? "timestamp with time zone"
                : name.StartsWith("is_", StringComparison.Ordinal) ? "boolean"
                : name is "amount" or "unit_price" or "discount" or "tax_amount" or "revenue" or "cost" or "margin" or "balance" or "credit_limit" or "contract_value" or "ltv" or "avg_order_value" ? "numeric(18,2)"
                : name is "quantity" or "total_orders" or "score" or "rating" or "resolution_time" ? "integer"
                : "varchar(255)";
            var description = rng.Next(2) == 0 ? $"The {name.Replace('_', ' ')} of the {p.Domain} record, as reported by the source." : null;
            var fk = name.EndsWith("_id", StringComparison.Ordinal) && rng.Next(3) == 0 ? $"{p.Domain}.{name[..^3]}s.id" : null;
            yield return new GenField(name, type, description, false, fk);
        }
    }

    /// <summary>
    /// A layered DAG (10 layers; upstream always in a lower layer, so no cycles and no self edges): each product of
    /// layer k ≥ 1 gets ~2 upstreams in layer k-1, 10% of them drawn from a few hub products; then random cross edges
    /// from any lower layer to any higher one until 2 edges per product. Unique (upstream, downstream).
    /// </summary>
    public IEnumerable<(int Up, int Down)> Edges()
    {
        var rng = new Random(4242);
        var n = Products.Length;
        const int layers = 10;
        var layerSize = Math.Max(1, n / layers);
        int LayerOf(int i) => Math.Min(layers - 1, i / layerSize);
        int LayerStart(int l) => l * layerSize;
        int LayerEnd(int l) => l == layers - 1 ? n : (l + 1) * layerSize;
        var hubs = Math.Max(1, layerSize / 200);
        var target = 2L * n;
        var seen = new HashSet<long>();
        var edges = new List<(int, int)>((int)target);
        for (var down = layerSize; down < n && edges.Count < target; down++)
        {
            var l = LayerOf(down) - 1;
            var k = rng.Next(1, 4); // 1..3, mean 2
            for (var j = 0; j < k; j++)
            {
                var up = rng.Next(10) == 0
                    ? LayerStart(l) + rng.Next(hubs)
                    : rng.Next(LayerStart(l), LayerEnd(l));
                if (seen.Add((long)up * n + down)) edges.Add((up, down));
            }
        }
        var guard = 0;
        while (edges.Count < target && guard++ < target * 20)
        {
            var a = rng.Next(n);
            var b = rng.Next(n);
            if (LayerOf(a) == LayerOf(b)) continue;
            var (up, down) = LayerOf(a) < LayerOf(b) ? (a, b) : (b, a);
            if (seen.Add((long)up * n + down)) edges.Add((up, down));
        }
        return edges;
    }

    private string Pick(string[] values) => values[_rng.Next(values.Length)];

    private string Weighted((string Value, int Weight)[] values)
    {
        var total = values.Sum(v => v.Weight);
        var x = _rng.Next(total);
        foreach (var (value, weight) in values)
        {
            if (x < weight) return value;
            x -= weight;
        }
        return values[^1].Value;
    }

    private static string Title(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
