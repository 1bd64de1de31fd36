using System.Text.Json;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Contracts;

/// <summary>Data contracts over the HTTP API: lifecycle, validation (always a 4xx with a machine-readable body), transitions and roles.</summary>
public sealed class ContractApiTests(AppFixture app) : IClassFixture<AppFixture>
{
    internal static string Contracts(string space) => $"/api/v1/spaces/{space}/contracts";

    private async Task<(string Space, TestUser Admin, TestUser Editor, TestUser Viewer)> ArrangeAsync()
    {
        var admin = await app.CreateUserAsync("Admin");
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (viewer, "viewer"));
        foreach (var slug in new[] { "orders", "billing", "finance-mart", "ml-features" })
            await admin.Client.CreateProductAsync(space, slug, new { name = slug.Replace('-', ' ') });
        return (space, admin, editor, viewer);
    }

    private static List<(string Loc, string Type)> Errors(ApiResponse r)
    {
        Assert.True(r.Status == 422, r.ToString());
        Assert.Equal("validation_failed", r.Code());
        return [.. r.Json.GetProperty("errors").EnumerateArray()
            .Select(e => (string.Join('.', e.GetProperty("loc").EnumerateArray().Select(x => x.ToString())), e.Str("type")))
            .OrderBy(e => e.Item1, StringComparer.Ordinal).ThenBy(e => e.Item2, StringComparer.Ordinal)];
    }

    private static double? Num(JsonElement e, string name) => e.GetProperty(name).ValueKind == JsonValueKind.Null ? null : e.GetProperty(name).GetDouble();

    [Fact]
    public async Task A_contract_is_created_read_by_id_and_slug_listed_patched_under_If_Match_and_a_draft_deleted()
    {
        var (space, admin, editor, viewer) = await ArrangeAsync();
        var c = Contracts(space);
        var orders = (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/orders")).Json.Id();

        var created = await editor.Client.PostAsync(c, new
        {
            name = "Orders → Finance SLA", description = "Daily orders for finance", producer = "orders",
            consumers = new[] { "ml-features", "finance-mart" }, freshness_hours = 24, min_quality_score = 80,
            availability_percent = 99.5, window_days = 7,
            effective_from = "2026-03-01T00:00:00Z", expires_at = "2027-03-01T00:00:00+01:00",
        });
        Assert.True(created.Status == 201, created.ToString());
        var j = created.Json;
        var id = j.Id();
        Assert.Equal($"{c}/{id}", created.Header("Location"));
        Assert.Equal($"\"{j.GetProperty("version").GetUInt32()}\"", created.Header("ETag"));
        Assert.Equal(("orders-finance-sla", "Orders → Finance SLA", "Daily orders for finance", "draft", "unknown"),
            (j.Str("slug"), j.Str("name"), j.Str("description"), j.Str("status"), j.Str("sla_status")));
        Assert.Equal((orders, "orders", "orders"), (j.GetProperty("producer").Id(), j.GetProperty("producer").Str("slug"), j.GetProperty("producer").Str("name")));
        Assert.Equal(["finance-mart", "ml-features"], j.GetProperty("consumers").EnumerateArray().Select(x => x.Str("slug")));
        Assert.Equal(["finance mart", "ml features"], j.GetProperty("consumers").EnumerateArray().Select(x => x.Str("name")));
        Assert.Equal((24.0, 80.0, 99.5, 7), (Num(j, "freshness_hours"), Num(j, "min_quality_score"), Num(j, "availability_percent"), j.GetProperty("window_days").GetInt32()));
        Assert.Equal(("2026-03-01T00:00:00.000000Z", "2027-02-28T23:00:00.000000Z"), (j.Str("effective_from"), j.Str("expires_at")));
        Assert.Equal(0, j.GetProperty("sla_details").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, j.GetProperty("last_evaluated_at").ValueKind);
        Assert.Equal(0, j.GetProperty("open_violations").GetInt32());
        Assert.Equal(editor.Id, j.GetProperty("created_by_id").GetGuid());

        var byId = await viewer.Client.GetAsync($"{c}/{id}");
        var bySlug = await viewer.Client.GetAsync($"{c}/orders-finance-sla");
        Assert.Equal(j.GetRawText(), byId.Json.GetRawText());
        Assert.Equal(j.GetRawText(), bySlug.Json.GetRawText());
        Assert.Equal(created.Header("ETag"), byId.Header("ETag"));

        // A second contract with the same name gets the next free slug; a chosen slug must be free.
        var second = await editor.Client.PostAsync(c, new { name = "Orders → Finance SLA", producer = "billing", min_quality_score = 90 });
        Assert.Equal((201, "orders-finance-sla-2", 30), (second.Status, second.Json.Str("slug"), second.Json.GetProperty("window_days").GetInt32()));
        var dup = await editor.Client.PostAsync(c, new { name = "x", slug = "orders-finance-sla", producer = "billing" });
        Assert.Equal((409, "duplicate"), (dup.Status, dup.Code()));

        // PATCH: stale If-Match → 409; the current one → 200 and a new ETag.
        var stale = await editor.Client.PatchAsync($"{c}/{id}", new { name = "Renamed" }, CatalogTestSupport.IfMatch("\"1\""));
        Assert.Equal((409, "version_conflict"), (stale.Status, stale.Code()));
        var patched = await editor.Client.PatchAsync($"{c}/{id}", new { name = "Renamed", description = (string?)null, consumers = new[] { "billing" }, freshness_hours = (double?)null },
            CatalogTestSupport.IfMatch(byId.Header("ETag")));
        Assert.True(patched.Status == 200, patched.ToString());
        Assert.Equal(("Renamed", "orders-finance-sla"), (patched.Json.Str("name"), patched.Json.Str("slug")));
        Assert.Equal(JsonValueKind.Null, patched.Json.GetProperty("description").ValueKind);
        Assert.Null(Num(patched.Json, "freshness_hours"));
        Assert.Equal(80.0, Num(patched.Json, "min_quality_score"));
        Assert.Equal(["billing"], patched.Json.GetProperty("consumers").EnumerateArray().Select(x => x.Str("slug")));
        Assert.NotEqual(byId.Header("ETag"), patched.Header("ETag"));

        // Lists and filters.
        List<string> Slugs(ApiResponse r) => r.Items().Select(x => x.Str("slug")).ToList();
        Assert.Equal(["orders-finance-sla-2", "orders-finance-sla"], Slugs(await viewer.Client.GetAsync(c)));
        Assert.Equal(["orders-finance-sla-2"], Slugs(await viewer.Client.GetAsync($"{c}?page=1&size=1")));
        Assert.Equal(2, (await viewer.Client.GetAsync($"{c}?page=1&size=1")).Json.GetProperty("total").GetInt32());
        var billing = (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/billing")).Json.Id();
        Assert.Equal(["orders-finance-sla-2", "orders-finance-sla"], Slugs(await viewer.Client.GetAsync($"{c}?product_id={billing}"))); // producer of one, consumer of the other
        Assert.Equal(["orders-finance-sla"], Slugs(await viewer.Client.GetAsync($"{c}?product_id={orders}")));
        Assert.Empty(Slugs(await viewer.Client.GetAsync($"{c}?status=active")));
        Assert.Equal(2, Slugs(await viewer.Client.GetAsync($"{c}?status=draft&sla_status=unknown")).Count);
        Assert.Empty(Slugs(await viewer.Client.GetAsync($"{c}?sla_status=breached")));

        // Roles: viewers read only; editors cannot delete; admins delete drafts.
        Assert.Equal(403, (await viewer.Client.PostAsync(c, new { name = "v", producer = "orders" })).Status);
        Assert.Equal(403, (await viewer.Client.PatchAsync($"{c}/{id}", new { name = "v" })).Status);
        Assert.Equal(403, (await viewer.Client.PostAsync($"{c}/{id}/evaluate", new { })).Status);
        Assert.Equal(403, (await editor.Client.DeleteAsync($"{c}/{id}")).Status);
        Assert.Equal(204, (await admin.Client.DeleteAsync($"{c}/orders-finance-sla")).Status);
        Assert.Equal(404, (await viewer.Client.GetAsync($"{c}/{id}")).Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM contract_consumers WHERE contract_id = '{id}'"));
        Assert.Equal(404, (await viewer.Client.GetAsync($"{c}/no-such-contract")).Status);
        Assert.Equal(404, (await viewer.Client.GetAsync($"{c}/{Guid.NewGuid()}/violations")).Status);
    }

    [Fact]
    public async Task Every_bad_input_is_a_422_naming_the_field()
    {
        var (space, _, editor, _) = await ArrangeAsync();
        var c = Contracts(space);
        var other = await app.CreateSpaceAsync(null, (editor, "admin"));
        var foreign = (await editor.Client.CreateProductAsync(other, "foreign")).Id();

        Assert.Equal([("body.consumers.0", "unknown_product"), ("body.consumers.2", "unknown_product")],
            Errors(await editor.Client.PostAsync(c, new { name = "n", producer = "orders", consumers = new[] { "nope", "billing", foreign.ToString() } })));
        Assert.Equal([("body.producer", "unknown_product")], Errors(await editor.Client.PostAsync(c, new { name = "n", producer = foreign.ToString() })));
        Assert.Equal([("body.consumers.1", "producer_is_consumer"), ("body.consumers.2", "duplicate")],
            Errors(await editor.Client.PostAsync(c, new { name = "n", producer = "orders", consumers = new[] { "billing", "orders", "billing" } })));
        Assert.Equal([("body.availability_percent", "out_of_range"), ("body.freshness_hours", "out_of_range"), ("body.min_quality_score", "out_of_range"), ("body.window_days", "out_of_range")],
            Errors(await editor.Client.PostAsync(c, new { name = "n", producer = "orders", freshness_hours = 0, min_quality_score = 100.5, availability_percent = -1, window_days = 366 })));
        Assert.Equal([("body.window_days", "out_of_range")], Errors(await editor.Client.PostAsync(c, new { name = "n", producer = "orders", window_days = 0 })));
        Assert.Equal([("body.expires_at", "date_order")],
            Errors(await editor.Client.PostAsync(c, new { name = "n", producer = "orders", effective_from = "2026-05-01T00:00:00Z", expires_at = "2026-05-01T00:00:00Z" })));
        Assert.Equal([("body.name", "string_too_short"), ("body.slug", "slug_invalid")], Errors(await editor.Client.PostAsync(c, new { name = " ", slug = "Bad Slug", producer = "orders" })));
        Assert.Equal([("body.status", "status_not_allowed")], Errors(await editor.Client.PostAsync(c, new { name = "n", producer = "orders", status = "expired" })));
        Assert.Equal([("body.status", "terms_required")], Errors(await editor.Client.PostAsync(c, new { name = "n", producer = "orders", status = "active" })));
        Assert.Equal([("body.expires_at", "already_expired")],
            Errors(await editor.Client.PostAsync(c, new { name = "n", producer = "orders", status = "active", min_quality_score = 50, expires_at = "2020-01-01T00:00:00Z" })));
        Assert.Equal("missing", (await editor.Client.PostAsync(c, new { name = "n" })).ErrorType());
        Assert.Equal("body.status", Errors(await editor.Client.PostAsync(c, new { name = "n", producer = "orders", status = "paused" }))[0].Loc);
        Assert.Equal(422, (await editor.Client.PostAsync(c, new { name = "n", producer = "orders", expires_at = "2026-05-01" })).Status);
        Assert.Equal(422, (await editor.Client.PostAsync(c, new { name = "n", producer = "orders", freshness_hours = "ten" })).Status);
        Assert.Equal(422, (await editor.Client.PostAsync(c, new { name = "n", producer = "orders", surprise = true })).Status);
        Assert.Equal(422, (await editor.Client.SendRawAsync("POST", c, "{\"name\":")).Status);
        Assert.Equal(("query.status", "enum"), (await editor.Client.GetAsync($"{c}?status=paused")) is var s ? (s.Loc(), s.ErrorType()) : default);
        Assert.Equal(("query.product_id", "uuid_parsing"), (await editor.Client.GetAsync($"{c}?product_id=orders")) is var p ? (p.Loc(), p.ErrorType()) : default);
        Assert.Equal(("query.size", "less_than_equal"), (await editor.Client.GetAsync($"{c}?size=101")) is var z ? (z.Loc(), z.ErrorType()) : default);

        var id = (await editor.Client.PostAsync(c, new { name = "ok", producer = "orders", consumers = new[] { "billing" } })).Json.Id();
        Assert.Equal(("query.state", "enum"), (await editor.Client.GetAsync($"{c}/{id}/violations?state=closed")) is var v ? (v.Loc(), v.ErrorType()) : default);
        Assert.Equal([("body.consumers.0", "producer_is_consumer")], Errors(await editor.Client.PatchAsync($"{c}/{id}", new { consumers = new[] { "orders" } })));
        Assert.Equal([("body.producer", "producer_is_consumer")], Errors(await editor.Client.PatchAsync($"{c}/{id}", new { producer = "billing" })));
        Assert.Equal([("body.expires_at", "date_order")], Errors(await editor.Client.PatchAsync($"{c}/{id}", new { effective_from = "2026-06-01T00:00:00Z", expires_at = "2026-05-01T00:00:00Z" })));
        Assert.Equal([("body.window_days", "out_of_range")], Errors(await editor.Client.PatchAsync($"{c}/{id}", new { window_days = 400 })));
        Assert.Equal([("body.name", "string_too_short")], Errors(await editor.Client.PatchAsync($"{c}/{id}", new { name = "" })));
        Assert.Equal(422, (await editor.Client.PatchAsync($"{c}/{id}", new { name = (string?)null })).Status);
        Assert.Equal(("header.If-Match", "etag_invalid"), (await editor.Client.PatchAsync($"{c}/{id}", new { name = "x" }, CatalogTestSupport.IfMatch("nope"))) is var h ? (h.Loc(), h.ErrorType()) : default);
        // Nothing of the failed attempts was stored.
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM data_contracts c JOIN spaces s ON s.id = c.space_id WHERE s.slug = '{space}'"));
        Assert.Equal("ok", (await editor.Client.GetAsync($"{c}/{id}")).Json.Str("name"));
    }

    [Fact]
    public async Task Status_moves_draft_to_active_to_deprecated_or_expired_and_expired_is_final()
    {
        var (space, admin, editor, _) = await ArrangeAsync();
        var c = Contracts(space);
        var id = (await editor.Client.PostAsync(c, new { name = "Lifecycle", producer = "orders" })).Json.Id();
        async Task<ApiResponse> Status(string status) => await editor.Client.PatchAsync($"{c}/{id}", new { status });

        Assert.Equal([("body.status", "terms_required")], Errors(await Status("active")));
        Assert.Equal((409, "invalid_transition"), await Status("deprecated") is var d ? (d.Status, d.Code()) : default);
        Assert.Equal((409, "invalid_transition"), await Status("expired") is var e ? (e.Status, e.Code()) : default);
        Assert.Equal((409, "contract_not_active"), await editor.Client.PostAsync($"{c}/{id}/evaluate", new { }) is var ev ? (ev.Status, ev.Code()) : default);

        var active = await editor.Client.PatchAsync($"{c}/{id}", new { status = "active", min_quality_score = 70 });
        Assert.Equal((200, "active"), (active.Status, active.Json.Str("status")));
        Assert.Equal((409, "invalid_transition"), await Status("draft") is var back ? (back.Status, back.Code()) : default);
        Assert.Equal((409, "producer_locked"), await editor.Client.PatchAsync($"{c}/{id}", new { producer = "billing" }) is var pl ? (pl.Status, pl.Code()) : default);
        Assert.Equal(200, (await editor.Client.PatchAsync($"{c}/{id}", new { producer = "orders" })).Status); // the same producer is no change
        Assert.Equal([("body.status", "terms_required")], Errors(await editor.Client.PatchAsync($"{c}/{id}", new { min_quality_score = (double?)null })));
        Assert.Equal((409, "contract_not_draft"), await admin.Client.DeleteAsync($"{c}/{id}") is var del ? (del.Status, del.Code()) : default);

        Assert.Equal("deprecated", (await Status("deprecated")).Json.Str("status"));
        Assert.Equal("active", (await Status("active")).Json.Str("status"));
        Assert.Equal("expired", (await Status("expired")).Json.Str("status"));
        foreach (var next in new[] { "active", "deprecated", "draft" })
            Assert.Equal((409, "contract_expired"), await Status(next) is var x ? (x.Status, x.Code()) : default);
        Assert.Equal((409, "contract_expired"), await editor.Client.PatchAsync($"{c}/{id}", new { name = "again" }) is var n ? (n.Status, n.Code()) : default);

        // Every change of status is in the audit log.
        Assert.Equal(4L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE resource_id = '{id}' AND action = 'update' AND changes ? 'status'"));
    }
}
