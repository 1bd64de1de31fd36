using System.Text.Json;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Catalog;

/// <summary>Space A's catalog is invisible to a member of space B only: every endpoint is a 404 that names nothing of A's.</summary>
public sealed class CatalogTenancyTests(Ingestion.IngestionFixture app) : IClassFixture<Ingestion.IngestionFixture>
{
    [Fact]
    public async Task A_member_of_another_space_gets_404_everywhere_and_learns_no_names()
    {
        var alice = await app.CreateUserAsync("Alice");
        var bob = await app.CreateUserAsync("Bob");
        var a = await app.CreateSpaceAsync(null, (alice, "admin"));
        var b = await app.CreateSpaceAsync(null, (bob, "admin"));

        var tag = (await alice.Client.PostAsync($"/api/v1/spaces/{a}/tags", new { name = "Zircon Confidential" })).Json.Id();
        Assert.Equal(201, (await alice.Client.PostAsync($"/api/v1/spaces/{a}/product-types", new { name = "quasar_type" })).Status);
        var ledger = await alice.Client.CreateProductAsync(a, "secret-ledger", new
        {
            name = "Xylophone Ledger", description = "Marmalade payroll", product_type = "quasar_type", tag_ids = new[] { tag },
            owner_id = alice.Id, fields = new[] { new { name = "narwhal_ssn" } },
        });
        var ledgerId = ledger.Id();
        var source = (await alice.Client.CreateProductAsync(a, "ledger-source", new { name = "Walrus Source" })).Id();
        Assert.Equal(201, (await alice.Client.PostAsync($"/api/v1/spaces/{a}/products/secret-ledger/lineage/upstream", new { upstream_id = source })).Status);
        var fieldId = (await alice.Client.GetAsync($"/api/v1/spaces/{a}/products/{ledgerId}/fields")).Json[0].Id();
        var bobsProduct = (await bob.Client.CreateProductAsync(b, "bobs-product")).Id();
        var bobsTag = (await bob.Client.PostAsync($"/api/v1/spaces/{b}/tags", new { name = "bobtag" })).Json.Id();
        var connector = await Ingestion.IngestionFixture.CreatePostgresConnectorAsync(alice.Client, a, "Host=quokka.invalid;Port=5432;Database=quokka;Username=quokka_user;Password=quokka-secret", name: "Quokka Warehouse");
        var job = Guid.CreateVersion7();
        var check = Guid.CreateVersion7();
        var execution = Guid.CreateVersion7();
        await app.WithDbAsync(async db =>
        {
            var spaceId = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Spaces.Where(s => s.Slug == a).Select(s => s.Id));
            db.SyncJobs.Add(new Qarion.Core.Ingestion.SyncJob { Id = job, SpaceId = spaceId, ConnectorId = connector, Status = Qarion.Core.Ingestion.SyncStatus.Failed, Error = "Quokka unreachable" });
            db.QualityChecks.Add(new Qarion.Core.Quality.QualityCheck
            {
                Id = check, SpaceId = spaceId, Slug = "ledger-check", Name = "Quokka rows", CheckType = "custom", Config = """{"type": "custom"}""",
            });
            db.CheckProducts.Add(new Qarion.Core.Quality.CheckProduct { CheckId = check, ProductId = ledgerId });
            db.CheckExecutions.Add(new Qarion.Core.Quality.CheckExecution
            {
                Id = execution, SpaceId = spaceId, CheckId = check, Status = Qarion.Core.Quality.ExecutionStatus.Fail, IdempotencyKey = "quokka",
                Message = "Quokka failed", Metric = 3, CompletedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        var c = $"/api/v1/spaces/{a}/connectors";
        var k = $"/api/v1/spaces/{a}/contracts";
        var contract = (await alice.Client.PostAsync(k, new { name = "Xylophone Pact", slug = "secret-pact", producer = "secret-ledger", consumers = new[] { "ledger-source" }, min_quality_score = 80, status = "active" })).Json.Id();
        var draftContract = (await alice.Client.PostAsync(k, new { name = "Marmalade Draft", producer = "ledger-source" })).Json.Id();
        var dbtConnector = (await Ingestion.IngestionFixture.CreateConnectorAsync(alice.Client, a, new { name = "Quokka dbt", platform = "dbt_manifest" })).Id();
        var createdCheck = await alice.Client.SendJsonAsync("POST", $"/api/v1/spaces/{a}/checks",
            new { name = "Xylophone check", slug = "hidden-check", check_type = "manual", products = new[] { "secret-ledger" }, field = "narwhal_ssn" });
        Assert.True(createdCheck.Status == 201, createdCheck.ToString());
        var checkId = createdCheck.Json.Id();
        var ck = $"/api/v1/spaces/{a}/checks";
        var issue = (await Issues.IssueTestSupport.CreateIssueAsync(alice.Client, a, "Xylophone outage", new { product_ids = new[] { ledgerId } })).Id();
        var i = $"/api/v1/spaces/{a}/issues";
        var comment = (await alice.Client.PostAsync($"{i}/{issue}/comments", new { body = "Marmalade note" })).Json.Id();
        var alert = await Issues.IssueTestSupport.SeedAlertAsync(app, a, ledgerId, "quokka-check", checkName: "Quokka check");
        var al = $"/api/v1/spaces/{a}/alerts";
        var ac = $"/api/v1/spaces/{a}/alert-connectors";
        var alertConnector = await alice.Client.PostAsync(ac, new { name = "Quokka alerts", kind = "email", config = new { recipients = new[] { "marmalade@example.com" } } });
        Assert.True(alertConnector.Status == 201, alertConnector.ToString());
        var alertConnectorId = alertConnector.Json.Id();
        // An access request and its grant, seeded below the API (no orchestration runs in this fixture).
        var accessRequest = Guid.CreateVersion7();
        var accessGrant = Guid.CreateVersion7();
        await app.WithDbAsync(async db =>
        {
            var spaceId = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Spaces.Where(s => s.Slug == a).Select(s => s.Id));
            db.Add(new Qarion.Core.AccessRequests.AccessRequest
            {
                Id = accessRequest, SpaceId = spaceId, RequesterId = alice.Id, TargetKind = Qarion.Core.AccessRequests.AccessTargetKind.Product, ProductId = ledgerId,
                AccessLevel = Qarion.Core.AccessRequests.AccessLevel.Read, Justification = "Marmalade audit", ExpiresAt = DateTimeOffset.UtcNow.AddDays(7),
                InstanceId = Qarion.Core.AccessRequests.AccessOrchestration.InstanceId(accessRequest),
            });
            var pendingRequest = Guid.CreateVersion7();
            db.Add(new Qarion.Core.AccessRequests.AccessRequest
            {
                Id = pendingRequest, SpaceId = spaceId, RequesterId = alice.Id, TargetKind = Qarion.Core.AccessRequests.AccessTargetKind.Product, ProductId = source,
                AccessLevel = Qarion.Core.AccessRequests.AccessLevel.Read, Justification = "Walrus audit", ExpiresAt = DateTimeOffset.UtcNow.AddDays(7),
                InstanceId = Qarion.Core.AccessRequests.AccessOrchestration.InstanceId(pendingRequest),
            });
            db.Add(new Qarion.Core.AccessRequests.AccessGrant
            {
                Id = accessGrant, SpaceId = spaceId, RequestId = accessRequest, UserId = alice.Id, TargetKind = Qarion.Core.AccessRequests.AccessTargetKind.Product,
                ProductId = ledgerId, AccessLevel = Qarion.Core.AccessRequests.AccessLevel.Read, GrantedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        var ar = $"/api/v1/spaces/{a}/access-requests";
        var ag = $"/api/v1/spaces/{a}/access-grants";
        var wh = $"/api/v1/spaces/{a}/webhooks";
        var webhookCreated = await alice.Client.PostAsync(wh, new { name = "Xylophone hook", url = "https://93.184.215.14/quokka-hook", event_types = new[] { "*" }, description = "Marmalade receiver" });
        Assert.True(webhookCreated.Status == 201, webhookCreated.ToString());
        var webhook = webhookCreated.Json.Id();
        var webhookDelivery = Guid.CreateVersion7();
        await app.WithDbAsync(async db =>
        {
            var spaceId = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Spaces.Where(s => s.Slug == a).Select(s => s.Id));
            db.Add(new Qarion.Core.Webhooks.WebhookDelivery
            {
                Id = webhookDelivery, SpaceId = spaceId, SubscriptionId = webhook, EventType = "issue.created", Body = "{}",
                Status = Qarion.Core.Webhooks.WebhookDeliveryStatus.Failed, Attempts = 1, LastError = "Quokka refused",
            });
            return await db.SaveChangesAsync();
        });

        var p = $"/api/v1/spaces/{a}/products";
        var attempts = new List<(string Method, string Path, object? Body)>
        {
            ("GET", p, null),
            ("GET", $"{p}?search=Xylophone", null),
            ("POST", p, new { slug = "intruder", name = "Intruder", product_type = "table" }),
            ("GET", $"{p}/{ledgerId}", null),
            ("GET", $"{p}/secret-ledger", null),
            ("PATCH", $"{p}/{ledgerId}", new { name = "Hijacked" }),
            ("PATCH", $"{p}/secret-ledger/governance", new { owner_id = bob.Id }),
            ("POST", $"{p}/{ledgerId}/archive", new { }),
            ("POST", $"{p}/{ledgerId}/unarchive", new { }),
            ("DELETE", $"{p}/{ledgerId}", null),
            ("GET", $"{p}/{ledgerId}/fields", null),
            ("PUT", $"{p}/{ledgerId}/fields", new { fields = Array.Empty<object>() }),
            ("POST", $"{p}/{ledgerId}/fields", new { name = "injected" }),
            ("PATCH", $"{p}/{ledgerId}/fields/{fieldId}", new { name = "renamed" }),
            ("DELETE", $"{p}/{ledgerId}/fields/{fieldId}", null),
            ("GET", $"/api/v1/spaces/{a}/tags", null),
            ("POST", $"/api/v1/spaces/{a}/tags", new { name = "intruder-tag" }),
            ("PATCH", $"/api/v1/spaces/{a}/tags/{tag}", new { name = "renamed" }),
            ("DELETE", $"/api/v1/spaces/{a}/tags/{tag}", null),
            ("POST", $"{p}/{ledgerId}/tags", new { tag_id = tag }),
            ("POST", $"{p}/{ledgerId}/tags", new { name = "new-inline" }),
            ("DELETE", $"{p}/{ledgerId}/tags/{tag}", null),
            ("GET", $"/api/v1/spaces/{a}/product-types", null),
            ("POST", $"/api/v1/spaces/{a}/product-types", new { name = "intruder_type" }),
            ("DELETE", $"/api/v1/spaces/{a}/product-types/quasar_type", null),
            ("POST", $"{p}/{ledgerId}/lineage/upstream", new { upstream_id = bobsProduct }),
            ("PUT", $"{p}/{ledgerId}/lineage/upstream", new { upstream = Array.Empty<object>() }),
            ("DELETE", $"{p}/{ledgerId}/lineage/upstream/{source}", null),
            ("GET", $"{p}/{ledgerId}/lineage", null),
            ("GET", $"{p}/secret-ledger/lineage?direction=upstream&depth=5", null),
            ("GET", $"/api/v1/spaces/{a}/lineage", null),
            ("GET", $"/api/v1/spaces/{a}/lineage?select=%2Bsecret-ledger%2B", null),
            ("GET", $"/api/v1/spaces/{a}/search?q=Xylophone", null),
            ("GET", $"/api/v1/spaces/{a}/search?q=narwhal_ssn&types=fields", null),
            ("GET", $"/api/v1/spaces/{a}/audit", null),
            ("GET", $"/api/v1/spaces/{a}/audit/resources/{ledgerId}", null),
            ("GET", $"/api/v1/spaces/{a}/audit/export?format=csv", null),
            ("GET", $"/api/v1/spaces/{a}/audit/export?format=json", null),
            ("GET", c, null),
            ("POST", c, new { name = "intruder", platform = "dbt_manifest" }),
            ("GET", $"{c}/{connector}", null),
            ("PATCH", $"{c}/{connector}", new { name = "renamed" }),
            ("DELETE", $"{c}/{connector}", null),
            ("PUT", $"{c}/{connector}/credentials", new { username = "bob", password = "x" }),
            ("DELETE", $"{c}/{connector}/credentials", null),
            ("POST", $"{c}/{connector}/test", new { }),
            ("POST", $"{c}/{connector}/sync", new { }),
            ("POST", $"{c}/{connector}/manifest", new { metadata = new { dbt_schema_version = "https://schemas.getdbt.com/dbt/manifest/v12.json" }, nodes = new { } }),
            ("GET", $"{c}/{connector}/sync-history", null),
            ("GET", $"{c}/{connector}/tests", null),
            ("GET", $"/api/v1/spaces/{a}/sync-jobs/{job}", null),
            ("GET", $"{p}/{ledgerId}/schema-changes", null),
            ("POST", $"/api/v1/spaces/{a}/checks/ledger-check/run", new { }),
            ("POST", $"/api/v1/spaces/{a}/checks/{check}/results", new { metric = 1 }),
            ("GET", $"/api/v1/spaces/{a}/checks/ledger-check/executions", null),
            ("GET", $"/api/v1/spaces/{a}/checks/ledger-check/stats", null),
            ("GET", $"/api/v1/spaces/{a}/executions", null),
            ("GET", $"/api/v1/spaces/{a}/executions/{execution}", null),
            ("POST", $"/api/v1/spaces/{a}/executions/{execution}/ignore", new { }),
            ("POST", $"/api/v1/spaces/{a}/executions/{execution}/unignore", new { }),
            ("GET", $"/api/v1/spaces/{a}/quality/stats", null),
            ("GET", $"/api/v1/spaces/{a}/quality/trend?product=secret-ledger", null),
            ("GET", $"{p}/secret-ledger/quality", null),
            ("GET", k, null),
            ("GET", $"{k}?product_id={ledgerId}", null),
            ("POST", k, new { name = "Intruder", producer = "secret-ledger" }),
            ("GET", $"{k}/{contract}", null),
            ("GET", $"{k}/secret-pact", null),
            ("PATCH", $"{k}/{contract}", new { name = "Hijacked", status = "deprecated" }),
            ("DELETE", $"{k}/{draftContract}", null),
            ("GET", $"{k}/{contract}/violations", null),
            ("POST", $"{k}/{contract}/evaluate", new { }),
            ("GET", $"{ck}?q=Xylophone", null),
            ("POST", ck, new { name = "Intruder", check_type = "manual", products = new[] { ledgerId.ToString() } }),
            ("GET", $"{ck}/{checkId}", null),
            ("GET", $"{ck}/hidden-check", null),
            ("PATCH", $"{ck}/{checkId}", new { name = "Hijacked" }),
            ("POST", $"{ck}/{checkId}/archive", new { }),
            ("POST", $"{ck}/{checkId}/unarchive", new { }),
            ("DELETE", $"{ck}/{checkId}", null),
            ("POST", $"{c}/{dbtConnector}/tests/import", new { run_connector_id = connector }),
            ("GET", i, null),
            ("GET", $"{i}?q=Xylophone", null),
            ("POST", i, new { title = "Intruder" }),
            ("GET", $"{i}/{issue}", null),
            ("GET", $"{i}/1", null),
            ("PATCH", $"{i}/{issue}", new { title = "Hijacked" }),
            ("DELETE", $"{i}/{issue}", null),
            ("GET", $"{i}/{issue}/history", null),
            ("POST", $"{i}/{issue}/products", new { product_id = bobsProduct }),
            ("DELETE", $"{i}/{issue}/products/{ledgerId}", null),
            ("GET", $"{i}/{issue}/comments", null),
            ("POST", $"{i}/{issue}/comments", new { body = "intrusion" }),
            ("PATCH", $"{i}/{issue}/comments/{comment}", new { body = "edited" }),
            ("DELETE", $"{i}/{issue}/comments/{comment}", null),
            ("GET", al, null),
            ("GET", $"{al}?status=open", null),
            ("GET", $"{al}/{alert.Id}", null),
            ("PATCH", $"{al}/{alert.Id}", new { severity = "low" }),
            ("POST", $"{al}/{alert.Id}/annotations", new { body = "intrusion" }),
            ("POST", $"{al}/{alert.Id}/acknowledge", new { }),
            ("POST", $"{al}/{alert.Id}/resolve", new { }),
            ("POST", $"{al}/{alert.Id}/issue", new { }),
            ("GET", ac, null),
            ("POST", ac, new { name = "intruder", kind = "email", config = new { recipients = new[] { "bob@example.com" } } }),
            ("GET", $"{ac}/{alertConnectorId}", null),
            ("PATCH", $"{ac}/{alertConnectorId}", new { name = "Hijacked", is_enabled = false }),
            ("DELETE", $"{ac}/{alertConnectorId}", null),
            ("POST", $"{ac}/{alertConnectorId}/test", new { }),
            ("GET", $"{ac}/{alertConnectorId}/deliveries", null),
            ("GET", ar, null),
            ("GET", $"{ar}?view=to_approve", null),
            ("GET", $"{ar}?view=all", null),
            ("POST", ar, new { product_id = ledgerId, justification = "intrusion" }),
            ("GET", $"{ar}/{accessRequest}", null),
            ("POST", $"{ar}/{accessRequest}/approve", new { }),
            ("POST", $"{ar}/{accessRequest}/reject", new { comment = "no" }),
            ("POST", $"{ar}/{accessRequest}/cancel", new { }),
            ("GET", ag, null),
            ("GET", $"{ag}?product_id={ledgerId}", null),
            ("POST", $"{ag}/{accessGrant}/revoke", new { }),
            ("GET", $"{p}/{ledgerId}/access", null),
            ("GET", $"{p}/secret-ledger/access", null),
            ("GET", wh, null),
            ("POST", wh, new { name = "intruder", url = "https://93.184.215.14/intruder", event_types = new[] { "*" } }),
            ("GET", $"{wh}/{webhook}", null),
            ("PATCH", $"{wh}/{webhook}", new { name = "Hijacked" }),
            ("DELETE", $"{wh}/{webhook}", null),
            ("POST", $"{wh}/{webhook}/rotate-secret", new { }),
            ("POST", $"{wh}/{webhook}/enable", new { }),
            ("POST", $"{wh}/{webhook}/disable", new { }),
            ("POST", $"{wh}/{webhook}/test", new { }),
            ("GET", $"{wh}/{webhook}/deliveries", null),
            ("GET", $"{wh}/{webhook}/deliveries?status=failed", null),
            ("GET", $"{wh}/{webhook}/deliveries/{webhookDelivery}", null),
            ("POST", $"{wh}/{webhook}/deliveries/{webhookDelivery}/redeliver", new { }),
            ("POST", $"{p}/{ledgerId}/subscription", new { }),
            ("POST", $"{p}/secret-ledger/subscription", new { }),
            ("DELETE", $"{p}/{ledgerId}/subscription", null),
            ("POST", $"/api/v1/spaces/{a}/openlineage", new Dictionary<string, object>
            {
                ["eventType"] = "COMPLETE", ["eventTime"] = "2026-03-01T09:00:00Z", ["producer"] = "test",
                ["run"] = new Dictionary<string, object> { ["runId"] = Guid.NewGuid() },
                ["job"] = new Dictionary<string, object> { ["namespace"] = "ns", ["name"] = "job" },
                ["outputs"] = new[] { new Dictionary<string, object> { ["namespace"] = "ns", ["name"] = "quokka.public.intruder" } },
            }),
        };
        AssertEverySpaceScopedEndpointIsTried(attempts.Select(a => (a.Method, a.Path)));
        string[] secrets = ["Xylophone", "Marmalade", "Zircon", "narwhal", "Walrus", "Quokka", alice.Email];
        foreach (var (method, path, body) in attempts)
        {
            var response = await bob.Client.SendJsonAsync(method, path, body);
            Assert.True(response.Status == 404, $"{method} {path} → {response}");
            foreach (var secret in secrets)
                Assert.False(response.Body.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{method} {path} leaks '{secret}': {response.Body}");
        }

        // Nothing changed.
        var after = await alice.Client.GetAsync($"{p}/{ledgerId}");
        Assert.Equal("Xylophone Ledger", after.Json.Str("name"));
        Assert.False(after.Json.GetProperty("is_archived").GetBoolean());
        Assert.Equal(alice.Id, after.Json.GetProperty("governance").GetProperty("owner").Id());
        Assert.Equal(1, after.Json.GetProperty("field_count").GetInt32());
        Assert.Single(after.Json.GetProperty("tags").EnumerateArray());
        Assert.Equal(ledger.GetProperty("version").GetUInt32(), after.Json.GetProperty("version").GetUInt32());
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM lineage_edges WHERE downstream_id = '{ledgerId}'"));
        Assert.Equal(2L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM data_products p JOIN spaces s ON s.id = p.space_id WHERE s.slug = '{a}'"));
        var connectorAfter = (await alice.Client.GetAsync($"{c}/{connector}")).Json;
        Assert.Equal(("Quokka Warehouse", true), (connectorAfter.Str("name"), connectorAfter.GetProperty("has_credentials").GetBoolean()));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM sync_jobs WHERE connector_id = '{connector}'"));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM check_executions WHERE check_id = '{check}' AND NOT is_ignored"));
        var contractAfter = (await alice.Client.GetAsync($"{k}/{contract}")).Json;
        Assert.Equal(("Xylophone Pact", "active", JsonValueKind.Null), (contractAfter.Str("name"), contractAfter.Str("status"), contractAfter.GetProperty("last_evaluated_at").ValueKind));
        Assert.Equal(200, (await alice.Client.GetAsync($"{k}/{draftContract}")).Status);
        Assert.Empty((await bob.Client.GetAsync($"/api/v1/spaces/{b}/contracts")).Items());
        var checkAfter = (await alice.Client.GetAsync($"{ck}/{checkId}")).Json;
        Assert.Equal(("Xylophone check", false), (checkAfter.Str("name"), checkAfter.GetProperty("is_archived").GetBoolean()));
        Assert.Equal(3L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM quality_checks WHERE space_id = (SELECT id FROM spaces WHERE slug = '{a}')"));

        var issueAfter = (await alice.Client.GetAsync($"{i}/{issue}")).Json;
        Assert.Equal(("Xylophone outage", 1, 1), (issueAfter.Str("title"), issueAfter.GetProperty("products").GetArrayLength(), issueAfter.GetProperty("comment_count").GetInt32()));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM issues i JOIN spaces s ON s.id = i.space_id WHERE s.slug = '{a}'"));
        var alertAfter = (await alice.Client.GetAsync($"{al}/{alert.Id}")).Json;
        Assert.Equal(("active", "high", 0), (alertAfter.Str("status"), alertAfter.Str("severity"), alertAfter.GetProperty("annotations").GetArrayLength()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, alertAfter.GetProperty("issue_id").ValueKind);
        Assert.Empty((await bob.Client.GetAsync($"/api/v1/spaces/{b}/issues")).Items());
        Assert.Empty((await bob.Client.GetAsync($"/api/v1/spaces/{b}/alerts")).Items());
        var alertConnectorAfter = (await alice.Client.GetAsync($"{ac}/{alertConnectorId}")).Json;
        Assert.Equal(("Quokka alerts", true), (alertConnectorAfter.Str("name"), alertConnectorAfter.GetProperty("is_enabled").GetBoolean()));
        Assert.Empty((await bob.Client.GetAsync($"/api/v1/spaces/{b}/alert-connectors")).Items());
        Assert.Equal(("pending", true), await app.WithDbAsync(async db =>
        {
            var r = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Set<Qarion.Core.AccessRequests.AccessRequest>().Where(x => x.Id == accessRequest));
            var g = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Set<Qarion.Core.AccessRequests.AccessGrant>().Where(x => x.Id == accessGrant));
            return (Qarion.Core.Persistence.SnakeCaseEnums.Name(r.Status), g.RevokedAt is null);
        }));
        Assert.Equal(2L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM access_requests r JOIN spaces s ON s.id = r.space_id WHERE s.slug = '{a}'"));
        Assert.Empty((await bob.Client.GetAsync($"/api/v1/spaces/{b}/access-requests?view=all")).Items());
        Assert.Empty((await bob.Client.GetAsync($"/api/v1/spaces/{b}/access-grants")).Items());
        var webhookAfter = (await alice.Client.GetAsync($"{wh}/{webhook}")).Json;
        Assert.Equal(("Xylophone hook", true, webhookCreated.Json.GetProperty("version").GetUInt32()),
            (webhookAfter.Str("name"), webhookAfter.GetProperty("is_enabled").GetBoolean(), webhookAfter.GetProperty("version").GetUInt32()));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM webhook_deliveries WHERE subscription_id = '{webhook}' AND status = 'failed'"));
        Assert.Empty((await bob.Client.GetAsync($"/api/v1/spaces/{b}/webhooks")).Items());
        Assert.Empty((await bob.Client.GetAsync("/api/v1/me/subscriptions")).Items());
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM product_subscriptions WHERE product_id = '{ledgerId}'"));

        // B's own views never contain A's objects.
        Assert.Equal(["bobs-product"], (await bob.Client.GetAsync($"/api/v1/spaces/{b}/products?include_archived=true")).Slugs());
        Assert.Equal(["bobtag"], (await bob.Client.GetAsync($"/api/v1/spaces/{b}/tags")).Items().Select(t => t.Str("name")));
        Assert.DoesNotContain((await bob.Client.GetAsync($"/api/v1/spaces/{b}/product-types")).Json.EnumerateArray(), t => t.Str("name") == "quasar_type");
        foreach (var q in new[] { "Xylophone", "ledger", "narwhal_ssn", "Zircon", "Marmalade" })
        {
            var search = await bob.Client.GetAsync($"/api/v1/spaces/{b}/search?q={q}");
            Assert.Equal(200, search.Status);
            Assert.Empty(search.Json.GetProperty("products").EnumerateArray());
            Assert.Empty(search.Json.GetProperty("fields").EnumerateArray());
            Assert.Empty(search.Json.GetProperty("tags").EnumerateArray());
        }
        var bGraph = await bob.Client.GetAsync($"/api/v1/spaces/{b}/lineage");
        Assert.Equal([bobsProduct], bGraph.Json.GetProperty("nodes").EnumerateArray().Select(n => n.Id()));
        Assert.Empty((await bob.Client.GetAsync($"/api/v1/users/{alice.Id}/governed-products")).Items());
        var bAudit = await bob.Client.GetAsync($"/api/v1/spaces/{b}/audit?size=100");
        Assert.DoesNotContain("Xylophone", bAudit.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(ledgerId.ToString(), bAudit.Body, StringComparison.Ordinal);
        Assert.Empty((await bob.Client.GetAsync($"/api/v1/spaces/{b}/audit/resources/{ledgerId}")).Items());

        // Bob may not link A's product as an upstream of his own, either.
        var link = await bob.Client.PostAsync($"/api/v1/spaces/{b}/products/bobs-product/lineage/upstream", new { upstream_id = ledgerId });
        Assert.Equal("not_found", link.ErrorType());
        Assert.DoesNotContain("Xylophone", link.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ids_of_another_space_are_not_found_under_this_spaces_urls_even_for_a_member_of_both()
    {
        var carol = await app.CreateUserAsync("Carol");
        var a = await app.CreateSpaceAsync(null, (carol, "admin"));
        var b = await app.CreateSpaceAsync(null, (carol, "admin"));
        var inA = (await carol.Client.CreateProductAsync(a, "in-a")).Id();
        var inB = (await carol.Client.CreateProductAsync(b, "in-b", new { fields = new[] { new { name = "bfield" } } })).Id();
        var bField = (await carol.Client.GetAsync($"/api/v1/spaces/{b}/products/in-b/fields")).Json[0].Id();
        var bTag = (await carol.Client.PostAsync($"/api/v1/spaces/{b}/tags", new { name = "btag" })).Json.Id();
        var shared = await carol.Client.CreateProductAsync(a, "shared-slug");
        await carol.Client.CreateProductAsync(b, "shared-slug", new { name = "B version" });
        await carol.Client.PostAsync($"/api/v1/spaces/{b}/products/in-b/lineage/upstream", new { upstream_id = inA }); // cross-space edge, managed from B

        var pa = $"/api/v1/spaces/{a}/products";
        Assert.Equal(404, (await carol.Client.GetAsync($"{pa}/{inB}")).Status);
        Assert.Equal(404, (await carol.Client.PatchAsync($"{pa}/{inB}", new { name = "x" })).Status);
        Assert.Equal(404, (await carol.Client.DeleteAsync($"{pa}/{inB}")).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"{pa}/{inB}/archive", new { })).Status);
        Assert.Equal(404, (await carol.Client.GetAsync($"{pa}/{inB}/fields")).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"{pa}/{inB}/fields", new { name = "x" })).Status);
        Assert.Equal(404, (await carol.Client.PatchAsync($"{pa}/in-a/fields/{bField}", new { name = "x" })).Status);
        Assert.Equal(404, (await carol.Client.DeleteAsync($"{pa}/in-a/fields/{bField}")).Status);
        Assert.Equal(404, (await carol.Client.GetAsync($"{pa}/{inB}/lineage")).Status);
        var bContract = (await carol.Client.PostAsync($"/api/v1/spaces/{b}/contracts", new { name = "B pact", producer = "in-b" })).Json.Id();
        var ka = $"/api/v1/spaces/{a}/contracts";
        Assert.Equal(404, (await carol.Client.GetAsync($"{ka}/{bContract}")).Status);
        Assert.Equal(404, (await carol.Client.GetAsync($"{ka}/b-pact")).Status);
        Assert.Equal(404, (await carol.Client.PatchAsync($"{ka}/{bContract}", new { name = "x" })).Status);
        Assert.Equal(404, (await carol.Client.DeleteAsync($"{ka}/{bContract}")).Status);
        Assert.Equal(404, (await carol.Client.GetAsync($"{ka}/{bContract}/violations")).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"{ka}/{bContract}/evaluate", new { })).Status);
        // A product of B cannot be a party to a contract of A.
        Assert.Equal("unknown_product", (await carol.Client.PostAsync(ka, new { name = "cross", producer = inB.ToString() })).ErrorType());
        Assert.Equal("unknown_product", (await carol.Client.PostAsync(ka, new { name = "cross", producer = "in-a", consumers = new[] { "in-b" } })).ErrorType());
        Assert.Empty((await carol.Client.GetAsync($"{ka}?product_id={inB}")).Items());
        Assert.Equal(404, (await carol.Client.PostAsync($"{pa}/{inB}/lineage/upstream", new { upstream_id = inA })).Status);
        // The B-managed edge is not removable through A.
        Assert.Equal(404, (await carol.Client.DeleteAsync($"{pa}/in-a/lineage/upstream/{inA}")).Status);
        Assert.Equal(404, (await carol.Client.DeleteAsync($"{pa}/{inB}/lineage/upstream/{inA}")).Status);
        Assert.Equal(404, (await carol.Client.PatchAsync($"/api/v1/spaces/{a}/tags/{bTag}", new { name = "x" })).Status);
        Assert.Equal(404, (await carol.Client.DeleteAsync($"/api/v1/spaces/{a}/tags/{bTag}")).Status);
        Assert.Equal("unknown_tag", (await carol.Client.PostAsync($"{pa}/in-a/tags", new { tag_id = bTag })).ErrorType());
        Assert.Equal("unknown_tag", (await carol.Client.PatchAsync($"{pa}/in-a", new { tag_ids = new[] { bTag } })).ErrorType());
        Assert.Equal("unknown_tag", (await carol.Client.PostAsync(pa, new { slug = "nn", name = "n", product_type = "table", tag_ids = new[] { bTag } })).ErrorType());
        Assert.Empty((await carol.Client.GetAsync($"/api/v1/spaces/{a}/audit/resources/{inB}")).Items());

        // Issues, comments and alerts of B are not found under A's URLs; issue numbers are per space.
        var issueA = (await Issues.IssueTestSupport.CreateIssueAsync(carol.Client, a, "In A")).Id();
        var issueB = (await Issues.IssueTestSupport.CreateIssueAsync(carol.Client, b, "In B", new { product_ids = new[] { inB } })).Id();
        var commentB = (await carol.Client.PostAsync($"/api/v1/spaces/{b}/issues/{issueB}/comments", new { body = "b" })).Json.Id();
        var alertB = await Issues.IssueTestSupport.SeedAlertAsync(app, b, inB, "b-check");
        var ia = $"/api/v1/spaces/{a}/issues";
        Assert.Equal(404, (await carol.Client.GetAsync($"{ia}/{issueB}")).Status);
        Assert.Equal(issueA, (await carol.Client.GetAsync($"{ia}/1")).Json.Id());
        Assert.Equal(404, (await carol.Client.PatchAsync($"{ia}/{issueB}", new { title = "x" })).Status);
        Assert.Equal(404, (await carol.Client.DeleteAsync($"{ia}/{issueB}")).Status);
        Assert.Equal(404, (await carol.Client.PatchAsync($"{ia}/{issueA}/comments/{commentB}", new { body = "x" })).Status);
        Assert.Equal(404, (await carol.Client.DeleteAsync($"{ia}/{issueA}/comments/{commentB}")).Status);
        Assert.Equal("unknown_product", (await carol.Client.PostAsync($"{ia}/{issueA}/products", new { product_id = inB })).ErrorType());
        Assert.Equal("unknown_product", (await carol.Client.PostAsync(ia, new { title = "x", product_ids = new[] { inB } })).ErrorType());
        Assert.Equal(404, (await carol.Client.GetAsync($"/api/v1/spaces/{a}/alerts/{alertB.Id}")).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"/api/v1/spaces/{a}/alerts/{alertB.Id}/resolve", new { })).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"/api/v1/spaces/{a}/alerts/{alertB.Id}/issue", new { })).Status);
        Assert.Empty((await carol.Client.GetAsync($"/api/v1/spaces/{a}/alerts?check_id={alertB.CheckId}")).Items());
        Assert.Equal("active", (await carol.Client.GetAsync($"/api/v1/spaces/{b}/alerts/{alertB.Id}")).Json.Str("status"));

        // An alert connector of B is not found under A's URLs.
        var connectorB = (await carol.Client.PostAsync($"/api/v1/spaces/{b}/alert-connectors", new { name = "B mail", kind = "email", config = new { recipients = new[] { "b@example.com" } } })).Json.Id();
        var aca = $"/api/v1/spaces/{a}/alert-connectors";
        Assert.Equal(404, (await carol.Client.GetAsync($"{aca}/{connectorB}")).Status);
        Assert.Equal(404, (await carol.Client.PatchAsync($"{aca}/{connectorB}", new { is_enabled = false })).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"{aca}/{connectorB}/test", new { })).Status);
        Assert.Equal(404, (await carol.Client.GetAsync($"{aca}/{connectorB}/deliveries")).Status);
        Assert.Equal(404, (await carol.Client.DeleteAsync($"{aca}/{connectorB}")).Status);
        Assert.Empty((await carol.Client.GetAsync(aca)).Items());
        Assert.True((await carol.Client.GetAsync($"/api/v1/spaces/{b}/alert-connectors/{connectorB}")).Json.GetProperty("is_enabled").GetBoolean());
        // Access requests and grants of B are not found under A's URLs; A's requests cannot name B's products.
        var requestB = Guid.CreateVersion7();
        var grantB = Guid.CreateVersion7();
        await app.WithDbAsync(async db =>
        {
            var spaceB = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Spaces.Where(s => s.Slug == b).Select(s => s.Id));
            db.Add(new Qarion.Core.AccessRequests.AccessRequest
            {
                Id = requestB, SpaceId = spaceB, RequesterId = carol.Id, TargetKind = Qarion.Core.AccessRequests.AccessTargetKind.Product, ProductId = inB,
                AccessLevel = Qarion.Core.AccessRequests.AccessLevel.Read, Justification = "b", ExpiresAt = DateTimeOffset.UtcNow.AddDays(7),
                InstanceId = Qarion.Core.AccessRequests.AccessOrchestration.InstanceId(requestB),
            });
            db.Add(new Qarion.Core.AccessRequests.AccessGrant
            {
                Id = grantB, SpaceId = spaceB, RequestId = requestB, UserId = carol.Id, TargetKind = Qarion.Core.AccessRequests.AccessTargetKind.Product,
                ProductId = inB, AccessLevel = Qarion.Core.AccessRequests.AccessLevel.Read, GrantedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        var ara = $"/api/v1/spaces/{a}/access-requests";
        Assert.Equal(404, (await carol.Client.GetAsync($"{ara}/{requestB}")).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"{ara}/{requestB}/cancel", new { })).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"{ara}/{requestB}/reject", new { comment = "x" })).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"/api/v1/spaces/{a}/access-grants/{grantB}/revoke", new { })).Status);
        Assert.Equal(404, (await carol.Client.GetAsync($"{pa}/{inB}/access")).Status);
        Assert.Empty((await carol.Client.GetAsync($"{ara}?view=all")).Items());
        Assert.Empty((await carol.Client.GetAsync($"/api/v1/spaces/{a}/access-grants?product_id={inB}")).Items());
        Assert.Equal("unknown_product", (await carol.Client.PostAsync(ara, new { product_id = inB, justification = "x" })).ErrorType());
        // A webhook of B is not found under A's URLs, nor are its deliveries.
        var hookB = (await carol.Client.PostAsync($"/api/v1/spaces/{b}/webhooks", new { name = "B hook", url = "https://93.184.215.14/b", event_types = new[] { "*" } })).Json.Id();
        var wa = $"/api/v1/spaces/{a}/webhooks";
        Assert.Equal(404, (await carol.Client.GetAsync($"{wa}/{hookB}")).Status);
        Assert.Equal(404, (await carol.Client.PatchAsync($"{wa}/{hookB}", new { name = "x" })).Status);
        Assert.Equal(404, (await carol.Client.DeleteAsync($"{wa}/{hookB}")).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"{wa}/{hookB}/rotate-secret", new { })).Status);
        Assert.Equal(404, (await carol.Client.PostAsync($"{wa}/{hookB}/test", new { })).Status);
        Assert.Equal(404, (await carol.Client.GetAsync($"{wa}/{hookB}/deliveries")).Status);
        Assert.Empty((await carol.Client.GetAsync(wa)).Items());

        // The same slug in two spaces resolves within each.
        Assert.Equal(shared.Id(), (await carol.Client.GetAsync($"{pa}/shared-slug")).Json.Id());
        Assert.Equal("B version", (await carol.Client.GetAsync($"/api/v1/spaces/{b}/products/shared-slug")).Json.Str("name"));
        Assert.Equal(["in-a", "shared-slug"], (await carol.Client.GetAsync(pa)).Slugs());
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM product_fields WHERE product_id = '{inA}'"));
    }

    /// <summary>
    /// The matrix above must reach every space-scoped HTTP function in the built metadata (spaces and
    /// members aside: identity's permission tests cover those), so a new endpoint cannot skip the check.
    /// </summary>
    private static void AssertEverySpaceScopedEndpointIsTried(IEnumerable<(string Method, string Path)> attempts)
    {
        var tried = attempts.Select(a => (Method: a.Method.ToLowerInvariant(), Path: a.Path.Split('?')[0][RoutePrefix.Length..])).ToList();
        var missing = FunctionMetadataEntry.Load()
            .Where(f => f.Trigger?.GetProperty("type").GetString() == "httpTrigger")
            .SelectMany(f => f.Trigger!.Value.GetProperty("methods").EnumerateArray().Select(m => (Name: f.Name, Method: m.GetString()!, Route: f.Trigger!.Value.GetProperty("route").GetString()!)))
            .Where(e => e.Route.StartsWith("v1/spaces/{space}/", StringComparison.Ordinal) && !e.Route.StartsWith("v1/spaces/{space}/members", StringComparison.Ordinal))
            .Where(e =>
            {
                var matcher = new Microsoft.AspNetCore.Routing.Template.TemplateMatcher(
                    Microsoft.AspNetCore.Routing.Template.TemplateParser.Parse(e.Route), new Microsoft.AspNetCore.Routing.RouteValueDictionary());
                return !tried.Any(t => t.Method == e.Method && matcher.TryMatch(t.Path, new Microsoft.AspNetCore.Routing.RouteValueDictionary()));
            })
            .Select(e => $"{e.Method.ToUpperInvariant()} {e.Route} ({e.Name})")
            .ToList();
        Assert.True(missing.Count == 0, "The tenancy matrix does not call:\n" + string.Join('\n', missing));
    }

    private const string RoutePrefix = "/api";
}
