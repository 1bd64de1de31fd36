using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Ingestion;
using static Qarion.Tests.Quality.CheckTestSupport;

namespace Qarion.Tests.Quality;

/// <summary>
/// Quality check definitions over the API, on a space whose catalog is Chinook as its connector scraped it: every
/// type stored exactly (and runnable on the source), names checked against the catalog, thresholds, schedules,
/// filters, PATCH with If-Match, archiving and roles.
/// </summary>
public sealed class CheckApiTests(CheckFixture app) : IClassFixture<CheckFixture>
{
    private const string Track = """{"schema":"public","name":"track"}""";
    private const string Album = """{"schema":"public","name":"album"}""";

    [Fact]
    public async Task Every_type_is_stored_with_its_defaults_resolved_and_runs_on_the_source()
    {
        var s = await app.ChinookAsync();
        var c = s.Connector;
        var cases = new List<(Dictionary<string, object?> Body, string Stored)>
        {
            (Body("Tracks exist", "row_count", new[] { "track" }, new { }, new { connector_id = c }),
                $$"""{"type":"row_count","table":{{Track}}}"""),
            (Body("Composer present", "null_check", new[] { "track" }, new { }, new { connector_id = c, field = "composer" }),
                $$"""{"type":"null_check","table":{{Track}},"column":"composer"}"""),
            (Body("Track key", "uniqueness", new[] { "track" }, new { columns = new[] { "album_id", "name" } }, new { connector_id = c }),
                $$"""{"type":"uniqueness","table":{{Track}},"columns":["album_id","name"]}"""),
            (Body("Length range", "range_check", new[] { "track" }, new { column = "milliseconds", min = 0, max = 6000000 }, new { connector_id = c }),
                $$"""{"type":"range_check","table":{{Track}},"column":"milliseconds","min":0,"max":6000000,"aggregate":"none"}"""),
            (Body("Mean price", "range_check", new[] { "track" }, new { column = "unit_price", aggregate = "mean" },
                    new { connector_id = c, critical = new { @operator = "between", min = 0.5, max = 2 } }),
                $$"""{"type":"range_check","table":{{Track}},"column":"unit_price","min":null,"max":null,"aggregate":"mean"}"""),
            (Body("Names start well", "pattern_check", new[] { "track" }, new { column = "name", pattern = "^[[:alnum:][:punct:] ]" }, new { connector_id = c }),
                $$"""{"type":"pattern_check","table":{{Track}},"column":"name","pattern":"^[[:alnum:][:punct:] ]"}"""),
            (Body("Media types", "accepted_values", new[] { "track" }, new { column = "media_type_id", values = new[] { "1", "2", "3", "4", "5" } }, new { connector_id = c }),
                $$"""{"type":"accepted_values","table":{{Track}},"column":"media_type_id","values":["1","2","3","4","5"]}"""),
            (Body("Invoices fresh", "freshness", new[] { "invoice" }, new { column = "invoice_date" }, new { connector_id = c }),
                """{"type":"freshness","table":{"schema":"public","name":"invoice"},"column":"invoice_date"}"""),
            (Body("Track rules", "field_checks", new[] { "track" }, new
                {
                    rules = new object[]
                    {
                        new { name = "named", column = "name", kind = "not_null" },
                        new { name = "priced", column = "unit_price", kind = "range", min = 0, max = 2, warning = new { @operator = "lte", value = 1, unit = "percent" } },
                        new { name = "composer text", column = "composer", kind = "pattern", pattern = "^[^\\s]" },
                        new { name = "genre", column = "genre_id", kind = "accepted_values", values = new[] { "1", "2" }, critical = new { @operator = "lte", value = 3000 } },
                    },
                }, new { connector_id = c }),
                """
                {"type":"field_checks","table":TRACK,"rules":[
                  {"name":"named","column":"name","kind":"not_null","min":null,"max":null,"pattern":null,"values":null,"warning":null,"critical":null},
                  {"name":"priced","column":"unit_price","kind":"range","min":0,"max":2,"pattern":null,"values":null,
                   "warning":{"operator":"lte","value":1,"min":null,"max":null,"percent":true},"critical":null},
                  {"name":"composer text","column":"composer","kind":"pattern","min":null,"max":null,"pattern":"^[^\\s]","values":null,"warning":null,"critical":null},
                  {"name":"genre","column":"genre_id","kind":"accepted_values","min":null,"max":null,"pattern":null,"values":["1","2"],
                   "warning":null,"critical":{"operator":"lte","value":3000,"min":null,"max":null,"percent":false}}]}
                """.Replace("TRACK", Track, StringComparison.Ordinal)),
            (Body("Track count", "sql_metric", new[] { "track" }, new { sql = "SELECT count(*) FROM public.track" }, new { connector_id = c }),
                """{"type":"sql_metric","sql":"SELECT count(*) FROM public.track"}"""),
            (Body("No negative bytes", "sql_condition", new[] { "track", "album" }, new { sql = "SELECT * FROM public.track WHERE bytes < 0;" }, new { connector_id = c }),
                """{"type":"sql_condition","sql":"SELECT * FROM public.track WHERE bytes < 0;"}"""),
            (Body("Album shape", "schema", new[] { "track" }, new
                {
                    table = "public.album", allow_extra_columns = false,
                    columns = new[] { new { name = "album_id", data_type = "int" }, new { name = "title", data_type = "varchar" }, new { name = "artist_id", data_type = "integer" } },
                }, new { connector_id = c }),
                $$"""{"type":"schema","table":{{Album}},"columns":[{"name":"album_id","data_type":"int"},{"name":"title","data_type":"varchar"},{"name":"artist_id","data_type":"integer"}],"allow_extra_columns":false}"""),
            (Body("Albums per source", "reconciliation", new[] { "album" }, new
                {
                    left = new { type = "row_count" }, right = new { type = "row_count", table = new { schema = "public", name = "album" } },
                    right_connector_id = s.AlbumOnly, kind = "relative", tolerance = 1.5,
                }, new { connector_id = c, warning = new { @operator = "eq", value = 0 } }),
                $$"""{"type":"reconciliation","left":{"type":"row_count","table":{{Album}}},"right":{"type":"row_count","table":{{Album}}},"kind":"relative","tolerance":1.5,"right_connector_id":"{{s.AlbumOnly}}"}"""),
            (Body("Longest track", "anomaly", new[] { "track" }, new { metric = new { type = "range_check", column = "milliseconds", aggregate = "max" }, min_history = 5, sensitivity = 2.5, window = 20 }, new { connector_id = c }),
                $$"""{"type":"anomaly","metric":{"type":"range_check","table":{{Track}},"column":"milliseconds","min":null,"max":null,"aggregate":"max"},"min_history":5,"sensitivity":2.5,"window":20}"""),
            (Body("Revenue pushed", "custom", new[] { "invoice" }, new { unit = "eur" }),
                """{"type":"custom","unit":"eur"}"""),
            (Body("Tickets counted", "manual", new[] { "invoice" }, new { unit = "count", instructions = "Count the open tickets" }),
                """{"type":"manual","unit":"count","instructions":"Count the open tickets"}"""),
        };
        Assert.Equal(CheckTypes.All.Order(), cases.Select(x => (string)x.Body["check_type"]!).Distinct().Order());

        var chinook = await SourceDatabases.ChinookAsync();
        var (source, creds) = PostgresScraperFixture.Source(chinook);
        var runner = new CheckRunner(TimeProvider.System);
        foreach (var (body, stored) in cases)
        {
            var created = await s.Editor.Client.CreateCheckAsync(s, body);
            SameJson(stored, created.GetProperty("config"));
            var fetched = await s.Viewer.Client.GetAsync($"{s.Checks}/{created.Str("slug")}");
            Assert.Equal(200, fetched.Status);
            SameJson(stored, fetched.Json.GetProperty("config"));
            Assert.Equal(created.Id(), fetched.Json.Id());
            // What is stored is what the runner reads, and it runs on the source without an error.
            var type = (string)body["check_type"]!;
            var row = await app.WithDbAsync(db => db.QualityChecks.AsNoTracking().SingleAsync(x => x.Id == created.Id()));
            var config = CheckConfigJson.Read(row.Config);
            if (CheckTypes.IsExternal(type) || config is AnomalyConfig) continue;
            var definition = new CheckDefinition(config, CheckConfigJson.ReadThreshold(row.WarningThreshold), CheckConfigJson.ReadThreshold(row.CriticalThreshold));
            var outcome = await runner.RunAsync(PostgresCheckDialect.Instance.Compile(definition), source, creds, default);
            Assert.True(outcome.Status != CheckStatus.Error, $"{type}: {outcome.Message}");
        }

        // The response around the config: products in order, thresholds in the API's shape, no schedule.
        var mean = (await s.Viewer.Client.GetAsync($"{s.Checks}/mean-price")).Json;
        Assert.Equal(("range_check", "medium", s.Connector, true, false), (mean.Str("check_type"), mean.Str("severity"), mean.GetProperty("connector_id").GetGuid(),
            mean.GetProperty("is_active").GetBoolean(), mean.GetProperty("is_archived").GetBoolean()));
        SameJson("""{"operator":"between","value":null,"min":0.5,"max":2,"unit":"count"}""", mean.GetProperty("critical"));
        Assert.Equal(JsonValueKind.Null, mean.GetProperty("warning").ValueKind);
        Assert.Equal(JsonValueKind.Null, mean.GetProperty("next_run_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, mean.GetProperty("last_status").ValueKind);
        var bytes = (await s.Viewer.Client.GetAsync($"{s.Checks}/no-negative-bytes")).Json;
        Assert.Equal(["track", "album"], bytes.GetProperty("products").EnumerateArray().Select(p => p.Str("slug")));
        Assert.Equal("track", bytes.GetProperty("products")[0].Str("name"));
        var custom = (await s.Viewer.Client.GetAsync($"{s.Checks}/revenue-pushed")).Json;
        Assert.Equal(JsonValueKind.Null, custom.GetProperty("connector_id").ValueKind);
    }

    [Fact]
    public async Task Names_are_checked_against_the_connectors_catalog_and_an_injected_column_is_just_unknown()
    {
        var s = await app.ChinookAsync();
        var c = s.Connector;
        async Task<List<string>> Refused(Dictionary<string, object?> body)
        {
            var response = await s.Editor.Client.SendJsonAsync("POST", s.Checks, body);
            return response.Errors();
        }

        Assert.Equal(["body.config.table unknown_table"],
            await Refused(Body("x", "row_count", new[] { "track" }, new { table = "public.nope" }, new { connector_id = c })));
        Assert.Equal(["body.config.table unknown_table"],
            await Refused(Body("x", "row_count", new[] { "track" }, new { table = new { schema = "PUBLIC", name = "track" } }, new { connector_id = c })));
        Assert.Equal(["body.config.column unknown_column"],
            await Refused(Body("x", "null_check", new[] { "track" }, new { column = "Composer" }, new { connector_id = c })));
        Assert.Equal(["body.config.column unknown_column"],
            await Refused(Body("x", "null_check", new[] { "track" }, new { column = "x\" OR 1=1 --" }, new { connector_id = c })));
        Assert.Equal(["body.config.columns.1 unknown_column"],
            await Refused(Body("x", "uniqueness", new[] { "track" }, new { columns = new[] { "name", "name\"; DROP TABLE track; --" } }, new { connector_id = c })));
        Assert.Equal(["body.config.rules.1.column unknown_column"],
            await Refused(Body("x", "field_checks", new[] { "track" }, new
            {
                rules = new object[] { new { name = "a", column = "name", kind = "not_null" }, new { name = "b", column = "nope", kind = "not_null" } },
            }, new { connector_id = c })));
        // The album-only connector does not maintain track: the right side of a reconciliation is checked in its catalog.
        Assert.Equal(["body.config.right.table unknown_table"],
            await Refused(Body("x", "reconciliation", new[] { "track" }, new
            {
                left = new { type = "row_count" }, right = new { type = "row_count", table = "public.track" }, right_connector_id = s.AlbumOnly, tolerance = 0,
            }, new { connector_id = c })));
        // Without a table, the right side would take the primary product's table only if that connector maintained it.
        Assert.Equal(["body.config.right.table missing"],
            await Refused(Body("x", "reconciliation", new[] { "track" }, new
            {
                left = new { type = "row_count" }, right = new { type = "row_count" }, right_connector_id = s.AlbumOnly, tolerance = 0,
            }, new { connector_id = c })));
        Assert.Equal(["body.config.right_connector_id unknown_connector"],
            await Refused(Body("x", "reconciliation", new[] { "track" }, new
            {
                left = new { type = "row_count" }, right = new { type = "row_count", table = "public.album" }, right_connector_id = Guid.NewGuid(), tolerance = 0,
            }, new { connector_id = c })));
        // The field must be a field of the primary product, and becomes the default column.
        Assert.Equal(["body.field unknown_field"],
            await Refused(Body("x", "null_check", new[] { "track" }, new { }, new { connector_id = c, field = "title" })));
        // A product that no connector scraped has no table to default to.
        var manualProduct = (await s.Editor.Client.CreateProductAsync(s.Space, "hand-made-" + Guid.NewGuid().ToString("N")[..6])).Str("slug");
        Assert.Equal(["body.config.table missing"],
            await Refused(Body("x", "row_count", new[] { manualProduct }, new { }, new { connector_id = c })));
        // …but may name one explicitly.
        var explicitTable = await s.Editor.Client.CreateCheckAsync(s, Body("Hand-made count", "row_count", new[] { manualProduct }, new { table = "public.genre" }, new { connector_id = c }));
        SameJson("""{"type":"row_count","table":{"schema":"public","name":"genre"}}""", explicitTable.GetProperty("config"));

        Assert.Equal(["body.products.1 unknown_product", "body.products.2 duplicate"],
            await Refused(Body("x", "row_count", new[] { "track", "nope", "track" }, new { }, new { connector_id = c })));
        Assert.Equal(["body.connector_id missing"], await Refused(Body("x", "row_count", new[] { "track" }, new { })));
        Assert.Equal(["body.connector_id unknown_connector"], await Refused(Body("x", "row_count", new[] { "track" }, new { }, new { connector_id = Guid.NewGuid() })));
        Assert.Equal(["body.connector_id not_applicable", "body.schedule not_applicable"],
            await Refused(Body("x", "manual", new[] { "track" }, new { }, new { connector_id = c, schedule = "0 0 2 * * *" })));
        // Regexes are compiled by PostgreSQL, whose syntax they run in.
        Assert.Equal(["body.config.pattern invalid_regex"],
            await Refused(Body("x", "pattern_check", new[] { "track" }, new { column = "name", pattern = "(unclosed" }, new { connector_id = c })));
        Assert.Equal(["body.config.rules.2.pattern invalid_regex"],
            await Refused(Body("x", "field_checks", new[] { "track" }, new
            {
                rules = new object[]
                {
                    new { name = "a", column = "name", kind = "not_null" }, new { name = "b", column = "name", kind = "pattern", pattern = "^ok$" },
                    new { name = "c", column = "composer", kind = "pattern", pattern = "a{2,1}" },
                },
            }, new { connector_id = c })));
        Assert.Equal(["body.config.sql sql_multiple_statements"],
            await Refused(Body("x", "sql_condition", new[] { "track" }, new { sql = "SELECT 1; DELETE FROM track" }, new { connector_id = c })));
        Assert.Equal(["body.config.sql sql_unbalanced_parentheses"],
            await Refused(Body("x", "sql_metric", new[] { "track" }, new { sql = "SELECT 1) UNION (SELECT 2" }, new { connector_id = c })));
        // Nothing of these reached the database.
        Assert.Equal(0L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM quality_checks WHERE name = 'x'"));
    }

    [Fact]
    public async Task Thresholds_take_every_operator_and_unit_and_refuse_what_cannot_be_judged()
    {
        var s = await app.ChinookAsync();
        var c = s.Connector;
        var ops = new (object Threshold, string Stored)[]
        {
            (new { @operator = "gt", value = 1 }, """{"operator":"gt","value":1,"min":null,"max":null,"unit":"count"}"""),
            (new { @operator = "gte", value = 2.5, unit = "count" }, """{"operator":"gte","value":2.5,"min":null,"max":null,"unit":"count"}"""),
            (new { @operator = "lt", value = 10, unit = "percent" }, """{"operator":"lt","value":10,"min":null,"max":null,"unit":"percent"}"""),
            (new { @operator = "lte", value = 0 }, """{"operator":"lte","value":0,"min":null,"max":null,"unit":"count"}"""),
            (new { @operator = "eq", value = 0, unit = "percent" }, """{"operator":"eq","value":0,"min":null,"max":null,"unit":"percent"}"""),
            (new { @operator = "ne", value = 7 }, """{"operator":"ne","value":7,"min":null,"max":null,"unit":"count"}"""),
            (new { @operator = "between", min = 0, max = 5, unit = "percent" }, """{"operator":"between","value":null,"min":0,"max":5,"unit":"percent"}"""),
        };
        var i = 0;
        foreach (var (threshold, stored) in ops)
        {
            var check = await s.Editor.Client.CreateCheckAsync(s, Body($"Threshold {i++}", "null_check", new[] { "track" }, new { column = "composer" },
                new { connector_id = c, warning = threshold, critical = threshold }));
            SameJson(stored, check.GetProperty("warning"));
            SameJson(stored, check.GetProperty("critical"));
            var row = await app.WithDbAsync(db => db.QualityChecks.AsNoTracking().SingleAsync(x => x.Id == check.Id()));
            Assert.Equal(check.GetProperty("warning").GetProperty("unit").GetString() == "percent", CheckConfigJson.ReadThreshold(row.WarningThreshold)!.Percent);
        }

        async Task<List<string>> Refused(string type, object config, object extra)
            => (await s.Editor.Client.SendJsonAsync("POST", s.Checks, Body("t", type, new[] { "track" }, config, extra))).Errors();
        var nulls = new { column = "composer" };
        Assert.Equal(["body.critical.max missing"], await Refused("null_check", nulls, new { connector_id = c, critical = new { @operator = "between", min = 1 } }));
        Assert.Equal(["body.warning.min value_error"], await Refused("null_check", nulls, new { connector_id = c, warning = new { @operator = "between", min = 5, max = 1 } }));
        Assert.Equal(["body.warning.value missing"], await Refused("null_check", nulls, new { connector_id = c, warning = new { @operator = "gt" } }));
        Assert.Equal(["body.warning.min not_applicable"], await Refused("null_check", nulls, new { connector_id = c, warning = new { @operator = "gt", value = 1, min = 0 } }));
        Assert.Equal(["body.warning.value not_applicable"], await Refused("null_check", nulls, new { connector_id = c, warning = new { @operator = "between", min = 0, max = 1, value = 3 } }));
        Assert.Equal(["body.warning.unit percent_not_applicable"], await Refused("row_count", new { }, new { connector_id = c, warning = new { @operator = "gt", value = 1, unit = "percent" } }));
        Assert.Equal(["body.critical.unit percent_not_applicable"],
            await Refused("range_check", new { column = "bytes", aggregate = "sum" }, new { connector_id = c, critical = new { @operator = "lt", value = 1, unit = "percent" } }));
        Assert.Equal(["body.warning not_applicable"],
            await Refused("field_checks", new { rules = new[] { new { name = "a", column = "name", kind = "not_null" } } }, new { connector_id = c, warning = new { @operator = "eq", value = 0 } }));
        Assert.Equal(["body.critical not_applicable"],
            await Refused("reconciliation", new { left = new { type = "row_count" }, right = new { type = "row_count" }, tolerance = 0 }, new { connector_id = c, critical = new { @operator = "eq", value = 0 } }));
        Assert.Equal(["body.config.rules.0.critical.max missing"],
            await Refused("field_checks", new { rules = new[] { new { name = "a", column = "name", kind = "not_null", critical = new { @operator = "between", min = 0 } } } }, new { connector_id = c }));
        var badOperator = await s.Editor.Client.SendJsonAsync("POST", s.Checks, Body("t", "null_check", new[] { "track" }, nulls, new { connector_id = c, warning = new { @operator = "above", value = 1 } }));
        Assert.Equal(["body.warning type_error"], badOperator.Errors());
    }

    [Fact]
    public async Task Schedules_set_next_run_at_in_utc_and_only_for_active_unarchived_checks()
    {
        var s = await app.ChinookAsync();
        var c = s.Connector;
        app.Clock.SetUtcNow(new DateTimeOffset(2026, 6, 1, 9, 30, 0, TimeSpan.Zero));
        var check = await s.Editor.Client.CreateCheckAsync(s, Body("Nightly count", "row_count", new[] { "album" }, new { }, new { connector_id = c, schedule = "0 0 2 * * *" }));
        Assert.Equal(("0 0 2 * * *", "2026-06-02T02:00:00.000000Z"), (check.Str("schedule"), check.Str("next_run_at")));
        var url = $"{s.Checks}/{check.Id()}";

        var inactive = await s.Editor.Client.PatchAsync(url, new { is_active = false });
        Assert.Equal(JsonValueKind.Null, inactive.Json.GetProperty("next_run_at").ValueKind);
        var active = await s.Editor.Client.PatchAsync(url, new { is_active = true, schedule = "0 */15 * * * *" });
        Assert.Equal("2026-06-01T09:45:00.000000Z", active.Json.Str("next_run_at"));
        var archived = await s.Editor.Client.PostAsync($"{url}/archive", new { });
        Assert.Equal(200, archived.Status);
        Assert.True(archived.Json.GetProperty("is_archived").GetBoolean());
        Assert.Equal(JsonValueKind.Null, archived.Json.GetProperty("next_run_at").ValueKind);
        // An archived check may be edited but is not scheduled until it is unarchived.
        var edited = await s.Editor.Client.PatchAsync(url, new { schedule = "0 0 * * * *" });
        Assert.Equal(JsonValueKind.Null, edited.Json.GetProperty("next_run_at").ValueKind);
        app.Clock.Advance(TimeSpan.FromMinutes(40)); // 10:10
        var unarchived = await s.Editor.Client.PostAsync($"{url}/unarchive", new { });
        Assert.Equal(("2026-06-01T11:00:00.000000Z", false), (unarchived.Json.Str("next_run_at"), unarchived.Json.GetProperty("is_archived").GetBoolean()));
        var manualOnly = await s.Editor.Client.PatchAsync(url, new { schedule = (string?)null });
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (manualOnly.Json.GetProperty("schedule").ValueKind, manualOnly.Json.GetProperty("next_run_at").ValueKind));
        var inactiveFromStart = await s.Editor.Client.CreateCheckAsync(s, Body("Paused count", "row_count", new[] { "album" }, new { }, new { connector_id = c, schedule = "0 0 2 * * *", is_active = false }));
        Assert.Equal(JsonValueKind.Null, inactiveFromStart.GetProperty("next_run_at").ValueKind);

        var badCron = await s.Editor.Client.SendJsonAsync("POST", s.Checks, Body("x", "row_count", new[] { "album" }, new { }, new { connector_id = c, schedule = "0 2 * * *" }));
        Assert.Equal(["body.schedule cron_invalid"], badCron.Errors());
        var customScheduled = await s.Editor.Client.SendJsonAsync("POST", s.Checks, Body("x", "custom", new[] { "album" }, new { }, new { schedule = "0 0 2 * * *" }));
        Assert.Equal(["body.schedule not_applicable"], customScheduled.Errors());
    }

    [Fact]
    public async Task The_list_filters_by_product_type_status_connector_archive_and_name()
    {
        var s = await app.NewChinookSpaceAsync();
        var c = s.Connector;
        var e = s.Editor.Client;
        var a = await e.CreateCheckAsync(s, Body("Album count", "row_count", new[] { "album" }, new { }, new { connector_id = c }));
        var b = await e.CreateCheckAsync(s, Body("Album titles", "null_check", new[] { "album", "track" }, new { column = "title" }, new { connector_id = c }));
        var t = await e.CreateCheckAsync(s, Body("Track names", "null_check", new[] { "track" }, new { column = "name" }, new { connector_id = c }));
        var r = await e.CreateCheckAsync(s, Body("Right albums", "row_count", new[] { "public-album" }, new { }, new { connector_id = s.AlbumOnly }));
        var m = await e.CreateCheckAsync(s, Body("Zeta manual", "manual", new[] { "invoice" }, new { }));
        var z = await e.CreateCheckAsync(s, Body("Archived count", "row_count", new[] { "track" }, new { }, new { connector_id = c }));
        Assert.Equal(200, (await e.PostAsync($"{s.Checks}/{z.Id()}/archive", new { })).Status);
        await app.WithDbAsync(async db =>
        {
            await db.QualityChecks.Where(x => x.Id == a.Id()).ExecuteUpdateAsync(u => u.SetProperty(x => x.LastStatus, ExecutionStatus.Fail));
            return await db.QualityChecks.Where(x => x.Id == t.Id()).ExecuteUpdateAsync(u => u.SetProperty(x => x.LastStatus, ExecutionStatus.Pass));
        });

        async Task<List<string>> Names(string query)
        {
            var response = await s.Viewer.Client.GetAsync($"{s.Checks}{query}");
            return response.Items().Select(x => x.Str("name")).ToList();
        }
        Assert.Equal(["Album count", "Album titles", "Right albums", "Track names", "Zeta manual"], await Names(""));
        Assert.Equal(["Album count", "Album titles", "Archived count", "Right albums", "Track names", "Zeta manual"], await Names("?include_archived=true"));
        Assert.Equal(["Archived count"], await Names("?archived=true"));
        Assert.Equal(["Album count", "Album titles"], await Names("?product=album"));
        Assert.Equal(["Album titles", "Track names"], await Names($"?product={(await s.Viewer.Client.GetAsync($"/api/v1/spaces/{s.Space}/products/track")).Json.Id()}"));
        Assert.Equal(["Album titles", "Archived count", "Track names"], await Names("?product=track&include_archived=true"));
        Assert.Equal(["Album titles", "Track names"], await Names("?check_type=null_check"));
        Assert.Equal(["Album count"], await Names("?status=fail"));
        Assert.Equal(["Track names"], await Names("?status=pass"));
        Assert.Equal(["Album titles", "Right albums", "Zeta manual"], await Names("?status=never"));
        Assert.Equal(["Right albums"], await Names($"?connector_id={s.AlbumOnly}"));
        Assert.Equal(["Album count", "Album titles", "Right albums"], await Names("?q=ALBUM%20"));
        Assert.Equal(["Album titles"], await Names("?q=album&check_type=null_check&product=album"));
        Assert.Equal(["Album titles"], await Names("?size=1&page=2"));
        var page = await s.Viewer.Client.GetAsync($"{s.Checks}?size=2&page=3");
        Assert.Equal((5, 3, 2), (page.Json.GetProperty("total").GetInt32(), page.Json.GetProperty("page").GetInt32(), page.Json.GetProperty("size").GetInt32()));
        Assert.Equal(["Zeta manual"], page.Items().Select(x => x.Str("name")));

        Assert.Equal(["query.status enum"], (await s.Viewer.Client.GetAsync($"{s.Checks}?status=passed")).Errors());
        Assert.Equal(["query.check_type enum"], (await s.Viewer.Client.GetAsync($"{s.Checks}?check_type=nope")).Errors());
        Assert.Equal(["query.product unknown_product"], (await s.Viewer.Client.GetAsync($"{s.Checks}?product=nope")).Errors());
        Assert.Equal(["query.connector_id uuid_parsing"], (await s.Viewer.Client.GetAsync($"{s.Checks}?connector_id=nope")).Errors());
        _ = (r, m);
    }

    [Fact]
    public async Task Patch_honours_if_match_and_validates_the_whole_definition_again()
    {
        var s = await app.ChinookAsync();
        var c = s.Connector;
        var check = await s.Editor.Client.CreateCheckAsync(s, Body("Album title nulls", "null_check", new[] { "album" }, new { column = "title" },
            new { connector_id = c, warning = new { @operator = "eq", value = 0 }, critical = new { @operator = "lte", value = 5, unit = "percent" }, severity = "high" }));
        var url = $"{s.Checks}/{check.Str("slug")}";
        var version = check.GetProperty("version").GetUInt32();

        var stale = await s.Editor.Client.PatchAsync(url, new { name = "Renamed" }, CatalogTestSupport.IfMatch($"\"{version + 1}\""));
        Assert.Equal((409, "version_conflict"), (stale.Status, stale.Code()));
        var renamed = await s.Editor.Client.PatchAsync(url, new { name = "Renamed", description = "Titles must be there" }, CatalogTestSupport.IfMatch($"\"{version}\""));
        Assert.Equal(200, renamed.Status);
        Assert.Equal(("Renamed", "Titles must be there", "high"), (renamed.Json.Str("name"), renamed.Json.Str("description"), renamed.Json.Str("severity")));
        Assert.NotEqual(version, renamed.Json.GetProperty("version").GetUInt32());
        Assert.Equal($"\"{renamed.Json.GetProperty("version").GetUInt32()}\"", renamed.Header("ETag"));
        // The old version is stale now.
        Assert.Equal(409, (await s.Editor.Client.PatchAsync(url, new { name = "Again" }, CatalogTestSupport.IfMatch($"\"{version}\""))).Status);
        SameJson("""{"type":"null_check","table":{"schema":"public","name":"album"},"column":"title"}""", renamed.Json.GetProperty("config"));

        // The config as returned is accepted back; a new config is validated against the catalog again.
        var same = await s.Editor.Client.PatchAsync(url, new { config = renamed.Json.GetProperty("config") });
        Assert.Equal(200, same.Status);
        // Nothing changed, so nothing was written (jsonb's key order is not a change).
        Assert.Equal(renamed.Json.GetProperty("version").GetUInt32(), same.Json.GetProperty("version").GetUInt32());
        Assert.Equal(["body.config.column unknown_column"], (await s.Editor.Client.PatchAsync(url, new { config = new { column = "name" } })).Errors());
        Assert.Equal(["body.config.type type_mismatch"], (await s.Editor.Client.PatchAsync(url, new { config = new { type = "row_count" } })).Errors());
        // Changing the products revalidates the field against the new primary product; the config keeps its table.
        Assert.Equal(["body.field unknown_field"], (await s.Editor.Client.PatchAsync(url, new { products = new[] { "track" }, field = "title" })).Errors());
        var moved = await s.Editor.Client.PatchAsync(url, new { products = new[] { "track", "album" }, field = "name" });
        Assert.Equal(200, moved.Status);
        Assert.Equal(["track", "album"], moved.Json.GetProperty("products").EnumerateArray().Select(p => p.Str("slug")));
        Assert.Equal("name", moved.Json.Str("field"));
        SameJson("""{"type":"null_check","table":{"schema":"public","name":"album"},"column":"title"}""", moved.Json.GetProperty("config"));
        var swapped = await s.Editor.Client.PatchAsync(url, new { products = new[] { "album", "track" }, field = (string?)null, config = new { column = "artist_id" } });
        Assert.Equal(["album", "track"], swapped.Json.GetProperty("products").EnumerateArray().Select(p => p.Str("slug")));
        SameJson("""{"type":"null_check","table":{"schema":"public","name":"album"},"column":"artist_id"}""", swapped.Json.GetProperty("config"));
        // A stored percentage stays valid; null clears a threshold; a percentage on a check without a total is refused.
        var cleared = await s.Editor.Client.PatchAsync(url, new { warning = (object?)null });
        Assert.Equal(JsonValueKind.Null, cleared.Json.GetProperty("warning").ValueKind);
        SameJson("""{"operator":"lte","value":5,"min":null,"max":null,"unit":"percent"}""", cleared.Json.GetProperty("critical"));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM quality_checks WHERE id = '{check.Id()}' AND warning_threshold IS NULL"));
        Assert.Equal(["body.severity type_error"], (await s.Editor.Client.PatchAsync(url, new { severity = "urgent" })).Errors());
        Assert.Equal(["body.slug extra_forbidden"], (await s.Editor.Client.PatchAsync(url, new { slug = "new-slug" })).Errors());
        Assert.Equal(404, (await s.Editor.Client.PatchAsync($"{s.Checks}/no-such-check", new { name = "x" })).Status);
    }

    [Fact]
    public async Task Patch_checks_a_new_connector_against_its_own_catalog_and_a_check_that_lost_its_products_needs_new_ones()
    {
        var s = await app.ChinookAsync();
        var check = await s.Editor.Client.CreateCheckAsync(s, Body("Album rows " + Guid.NewGuid().ToString("N")[..6], "row_count", new[] { "album" }, new { }, new { connector_id = s.Connector }));
        var url = $"{s.Checks}/{check.Id()}";
        // public.album is in the album-only connector's catalog too (as another product); public.track is not.
        var moved = await s.Editor.Client.PatchAsync(url, new { connector_id = s.AlbumOnly });
        Assert.Equal(s.AlbumOnly, moved.Json.GetProperty("connector_id").GetGuid());
        Assert.Equal(["body.config.table unknown_table"], (await s.Editor.Client.PatchAsync(url, new { config = new { table = "public.track" } })).Errors());
        Assert.Equal(["body.connector_id missing"], (await s.Editor.Client.PatchAsync(url, new { connector_id = (Guid?)null })).Errors());

        var product = (await s.Editor.Client.CreateProductAsync(s.Space, "doomed-" + Guid.NewGuid().ToString("N")[..6])).Str("slug");
        var manual = await s.Editor.Client.CreateCheckAsync(s, Body("Doomed " + product, "manual", new[] { product }, new { unit = "count" }));
        Assert.Equal(204, (await s.Admin.Client.DeleteAsync($"/api/v1/spaces/{s.Space}/products/{product}")).Status);
        var orphan = $"{s.Checks}/{manual.Id()}";
        Assert.Empty((await s.Viewer.Client.GetAsync(orphan)).Json.GetProperty("products").EnumerateArray());
        Assert.Equal(["body.products too_short"], (await s.Editor.Client.PatchAsync(orphan, new { name = "Renamed" })).Errors());
        var rehomed = await s.Editor.Client.PatchAsync(orphan, new { name = "Renamed", products = new[] { "invoice" } });
        Assert.Equal(("Renamed", "invoice"), (rehomed.Json.Str("name"), rehomed.Json.GetProperty("products")[0].Str("slug")));
    }

    [Fact]
    public async Task Slugs_are_derived_unique_and_may_be_given()
    {
        var s = await app.ChinookAsync();
        var c = s.Connector;
        var name = "Slug Test " + Guid.NewGuid().ToString("N")[..6];
        var first = await s.Editor.Client.CreateCheckAsync(s, Body(name, "row_count", new[] { "album" }, new { }, new { connector_id = c }));
        var second = await s.Editor.Client.CreateCheckAsync(s, Body(name, "row_count", new[] { "album" }, new { }, new { connector_id = c }));
        var expected = CatalogMergerSlug(name);
        Assert.Equal((expected, expected + "-2"), (first.Str("slug"), second.Str("slug")));
        var given = await s.Editor.Client.CreateCheckAsync(s, Body("Given", "row_count", new[] { "album" }, new { }, new { connector_id = c, slug = "given-" + expected }));
        Assert.Equal("given-" + expected, given.Str("slug"));
        var taken = await s.Editor.Client.SendJsonAsync("POST", s.Checks, Body("Other", "row_count", new[] { "album" }, new { }, new { connector_id = c, slug = "given-" + expected }));
        Assert.Equal((409, "duplicate"), (taken.Status, taken.Code()));
        Assert.Equal(["body.slug slug_invalid"], (await s.Editor.Client.SendJsonAsync("POST", s.Checks, Body("Other", "row_count", new[] { "album" }, new { }, new { connector_id = c, slug = "Bad Slug" }))).Errors());
        Assert.Equal(first.Id(), (await s.Viewer.Client.GetAsync($"{s.Checks}/{first.Id()}")).Json.Id());
        Assert.Equal(404, (await s.Viewer.Client.GetAsync($"{s.Checks}/{Guid.NewGuid()}")).Status);
    }

    private static string CatalogMergerSlug(string name) => name.ToLowerInvariant().Replace(' ', '-');

    [Fact]
    public async Task Viewers_read_editors_write_and_archive_admins_delete()
    {
        var s = await app.ChinookAsync();
        var c = s.Connector;
        var body = Body("Role check " + Guid.NewGuid().ToString("N")[..6], "row_count", new[] { "album" }, new { }, new { connector_id = c });
        var denied = await s.Viewer.Client.SendJsonAsync("POST", s.Checks, body);
        Assert.Equal((403, "forbidden"), (denied.Status, denied.Code()));
        var check = await s.Editor.Client.CreateCheckAsync(s, body);
        var url = $"{s.Checks}/{check.Id()}";
        Assert.Equal(200, (await s.Viewer.Client.GetAsync(url)).Status);
        Assert.Equal(200, (await s.Viewer.Client.GetAsync(s.Checks)).Status);
        Assert.Equal(403, (await s.Viewer.Client.PatchAsync(url, new { name = "x" })).Status);
        Assert.Equal(403, (await s.Viewer.Client.PostAsync($"{url}/archive", new { })).Status);
        Assert.Equal(403, (await s.Viewer.Client.DeleteAsync(url)).Status);
        Assert.Equal(200, (await s.Editor.Client.PatchAsync(url, new { severity = "low" })).Status);
        Assert.Equal(200, (await s.Editor.Client.PostAsync($"{url}/archive", new { })).Status);
        Assert.Equal(200, (await s.Editor.Client.PostAsync($"{url}/unarchive", new { })).Status);
        Assert.Equal(403, (await s.Editor.Client.DeleteAsync(url)).Status);
        var current = await s.Admin.Client.GetAsync(url);
        Assert.Equal(409, (await s.Admin.Client.DeleteAsync(url, CatalogTestSupport.IfMatch("\"1\""))).Status);
        Assert.Equal(204, (await s.Admin.Client.DeleteAsync(url, CatalogTestSupport.IfMatch(current.Header("ETag")))).Status);
        Assert.Equal(404, (await s.Viewer.Client.GetAsync(url)).Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM check_products WHERE check_id = '{check.Id()}'"));
        // Audited like every other mutation.
        Assert.Equal(5L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE resource_id = '{check.Id()}'"));
    }

    [Fact]
    public async Task Bad_input_is_a_422_never_a_500()
    {
        var s = await app.ChinookAsync();
        var c = s.Connector.ToString();
        string[] bodies =
        [
            """{"name":"x","check_type":"row_count","products":["album"],"connector_id":"CID","config":[]}""",
            """{"name":"x","check_type":"row_count","products":["album"],"connector_id":"CID","config":"public.album"}""",
            """{"name":"x","check_type":"row_count","products":"album","connector_id":"CID"}""",
            """{"name":"x","check_type":"row_count","products":[],"connector_id":"CID"}""",
            """{"name":"x","check_type":"row_count","products":[1],"connector_id":"CID"}""",
            """{"name":"x","check_type":"nope","products":["album"],"connector_id":"CID"}""",
            """{"name":"x","check_type":"null_check","products":["album"],"connector_id":"CID","config":{"column":7}}""",
            """{"name":"x","check_type":"null_check","products":["album"],"connector_id":"CID","config":{"column":"title","column":"title"}}""",
            """{"name":"x","check_type":"range_check","products":["track"],"connector_id":"CID","config":{"column":"bytes","min":1e400}}""",
            """{"name":"x","check_type":"range_check","products":["track"],"connector_id":"CID","config":{"column":"bytes","min":"1"}}""",
            """{"name":"x","check_type":"accepted_values","products":["track"],"connector_id":"CID","config":{"column":"name","values":[null,{"a":1}]}}""",
            """{"name":"x","check_type":"field_checks","products":["track"],"connector_id":"CID","config":{"rules":[1,{"kind":"laser"},{"name":"a","column":"name","kind":"range"}]}}""",
            """{"name":"x","check_type":"reconciliation","products":["track"],"connector_id":"CID","config":{"left":{"type":"reconciliation"},"right":5,"tolerance":-1,"kind":"both","right_connector_id":"nope"}}""",
            """{"name":"x","check_type":"anomaly","products":["track"],"connector_id":"CID","config":{"metric":{"type":"null_check","column":"name"},"window":1,"sensitivity":0,"min_history":2.5}}""",
            """{"name":"x","check_type":"schema","products":["track"],"connector_id":"CID","config":{"columns":[{"name":"a"},{"name":"a","data_type":"int","x":1},"c"]}}""",
            """{"name":"x","check_type":"sql_metric","products":["track"],"connector_id":"CID","config":{"sql":"SELECT '"}}""",
            """{"name":"x","check_type":"row_count","products":["album"],"connector_id":"CID","config":{"table":{"schema":"public"}}}""",
            """{"name":"x","check_type":"row_count","products":["album"],"connector_id":"CID","config":{"table":"a.b.c"}}""",
            """{"name":"x","check_type":"row_count","products":["album"],"connector_id":"CID","warning":{"operator":"gt","value":"1"}}""",
            """{"name":"x","check_type":"row_count","products":["album"],"connector_id":"CID","warning":{"operator":"gt","value":1,"unit":"ratio"}}""",
            """{"name":"x","check_type":"row_count","products":["album"],"connector_id":"not-a-uuid"}""",
            """{"name":"x","check_type":"custom","products":["album"],"config":{"unit":"eur","extra":true}}""",
            """{"name":"x","check_type":"row_count","products":["album"],"connector_id":"CID","warning":{"operator":"gt","value":1e400}}""",
            """{"name":"x","check_type":"row_count","products":["album"],"connector_id":"CID","critical":{"operator":"between","min":-1e309,"max":1}}""",
        ];
        foreach (var raw in bodies)
        {
            var response = await s.Editor.Client.SendRawAsync("POST", s.Checks, raw.Replace("CID", c, StringComparison.Ordinal));
            Assert.True(response.Status == 422, $"{raw} → {response}");
            Assert.NotEmpty(response.Errors());
        }
        // A few, exactly.
        async Task<List<string>> Errors(string raw) => (await s.Editor.Client.SendRawAsync("POST", s.Checks, raw.Replace("CID", c, StringComparison.Ordinal))).Errors();
        Assert.Equal(["body.config.rules.0 type_error", "body.config.rules.1.name missing", "body.config.rules.1.column missing", "body.config.rules.1.kind enum", "body.config.rules.2.min missing"],
            await Errors(bodies[11]));
        Assert.Equal(["body.config.right_connector_id type_error", "body.config.left.type not_scalar", "body.config.right type_error", "body.config.kind enum", "body.config.tolerance greater_than_equal"],
            await Errors(bodies[12]));
        Assert.Equal(["body.config.metric.type not_scalar", "body.config.min_history type_error", "body.config.window value_error", "body.config.sensitivity value_error"],
            await Errors(bodies[13]));
        Assert.Equal(["body.config.columns.0.data_type missing", "body.config.columns.1.x unknown_key", "body.config.columns.1.name duplicate", "body.config.columns.2 type_error"],
            await Errors(bodies[14]));
        Assert.Equal(["body.config.sql sql_unterminated"], await Errors(bodies[15]));
        Assert.Equal(["body.config.table.name missing"], await Errors(bodies[16]));
        Assert.Equal(["body.config.table value_error"], await Errors(bodies[17]));
        Assert.Equal(["body.config.extra unknown_key"], await Errors(bodies[21]));
        Assert.Equal(["body.config.column duplicate_key"], await Errors(bodies[7]));
        Assert.Equal(["body.warning.value value_error"], await Errors(bodies[22]));
        Assert.Equal(["body.critical.min value_error"], await Errors(bodies[23]));
        // A number too small for a double is 0, which is a fine threshold.
        var tiny = await s.Editor.Client.SendRawAsync("POST", s.Checks,
            """{"name":"Tiny","check_type":"null_check","products":["track"],"connector_id":"CID","config":{"column":"name"},"warning":{"operator":"eq","value":1e-400}}""".Replace("CID", c, StringComparison.Ordinal));
        Assert.Equal((201, 0.0), (tiny.Status, tiny.Json.GetProperty("warning").GetProperty("value").GetDouble()));
    }
}
