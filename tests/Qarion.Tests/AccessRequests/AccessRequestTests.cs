using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.AccessRequests;
using Qarion.Core.Outbox;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.AccessRequests;

/// <summary>Access requests through the API, with the real orchestration on the Durable in-process test host.</summary>
public sealed class AccessRequestTests(AccessFixture app) : IClassFixture<AccessFixture>
{
    [Fact]
    public async Task An_approved_request_notifies_the_approvers_grants_access_and_can_be_revoked()
    {
        var cast = await AccessCast.CreateAsync(app);
        var rita = cast.Requester.Client;
        var submitted = await AccessFixture.SubmitAsync(rita, cast.Space, new { product_id = cast.ProductId, access_level = "read", justification = "  Monthly revenue report  " });
        var id = submitted.Id();
        Assert.Equal(("pending", "read", "Monthly revenue report"), (submitted.Str("status"), submitted.Str("access_level"), submitted.Str("justification")));
        Assert.Equal(("product", "orders", "Orders"), (submitted.GetProperty("target").Str("kind"), submitted.GetProperty("target").Str("product_slug"), submitted.GetProperty("target").Str("product_name")));
        Assert.Equal(app.Clock.GetUtcNow().AddHours(2), submitted.GetProperty("expires_at").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, submitted.GetProperty("ends_at").ValueKind);
        Assert.Equal(cast.ProductApprovers, submitted.GetProperty("approver_ids").EnumerateArray().Select(x => x.GetGuid()));
        Assert.False(submitted.GetProperty("can_decide").GetBoolean());

        // The orchestration's first step: the approvers hear of it.
        var events = await app.WaitForEventsAsync(id, 1);
        var (type, payload) = Assert.Single(events);
        Assert.Equal(OutboxEventTypes.AccessRequestSubmitted, type);
        Assert.Equal(cast.ProductApprovers, AccessFixture.Recipients(payload));
        Assert.Equal((cast.Requester.Id, "Orders", "pending"), (payload.GetProperty("requester_id").GetGuid(), payload.Str("target_name"), payload.Str("status")));

        // Lists: mine for the requester, to_approve for each approver, nothing for a bystander.
        Assert.Equal([id], (await rita.GetAsync(cast.Requests)).Items().Select(r => r.Id()));
        Assert.Empty((await rita.GetAsync($"{cast.Requests}?view=to_approve")).Items());
        Assert.Equal([id], (await cast.Owner.Client.GetAsync($"{cast.Requests}?view=to_approve")).Items().Select(r => r.Id()));
        Assert.Equal([id], (await cast.Steward.Client.GetAsync($"{cast.Requests}?view=to_approve&status=pending")).Items().Select(r => r.Id()));
        Assert.Equal([id], (await cast.Admin.Client.GetAsync($"{cast.Requests}?view=to_approve")).Items().Select(r => r.Id()));
        Assert.Empty((await cast.Bystander.Client.GetAsync($"{cast.Requests}?view=to_approve")).Items());
        Assert.Empty((await cast.Owner.Client.GetAsync(cast.Requests)).Items());
        Assert.Equal(403, (await cast.Owner.Client.GetAsync($"{cast.Requests}?view=all")).Status);
        Assert.Equal([id], (await cast.Admin.Client.GetAsync($"{cast.Requests}?view=all")).Items().Select(r => r.Id()));
        Assert.True((await cast.Owner.Client.GetAsync($"{cast.Requests}/{id}")).Json.GetProperty("can_decide").GetBoolean());
        Assert.Equal(403, (await cast.Bystander.Client.GetAsync($"{cast.Requests}/{id}")).Status);

        // Only an approver other than the requester decides.
        var byBystander = await cast.Bystander.Client.PostAsync($"{cast.Requests}/{id}/approve", new { });
        Assert.Equal((403, "forbidden"), (byBystander.Status, byBystander.Code()));
        Assert.Equal(403, (await rita.PostAsync($"{cast.Requests}/{id}/approve", new { })).Status);
        var ritaAccess = await rita.GetAsync($"/api/v1/spaces/{cast.Space}/products/orders/access");
        Assert.Equal((false, id), (ritaAccess.Json.GetProperty("has_active_grant").GetBoolean(), ritaAccess.Json.GetProperty("pending_request_id").GetGuid()));

        var approved = await cast.Owner.Client.PostAsync($"{cast.Requests}/{id}/approve", new { comment = "For the report only" });
        Assert.True(approved.Status == 200, approved.ToString());
        Assert.Equal(("approved", "For the report only", cast.Owner.Id), (approved.Json.Str("status"), approved.Json.Str("decision_comment"), approved.Json.GetProperty("decided_by").Id()));
        Assert.Equal(app.Clock.GetUtcNow(), approved.Json.GetProperty("decided_at").GetDateTimeOffset());
        Assert.Equal("approved", await app.WaitForOrchestrationAsync(id));

        events = await app.EventsAsync(id);
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestApproved], events.Select(e => e.Type));
        var approvedEvent = events[1].Payload;
        Assert.Equal([cast.Requester.Id], AccessFixture.Recipients(approvedEvent));
        Assert.Equal((cast.Owner.Id, "For the report only", "approved"), (approvedEvent.GetProperty("actor_id").GetGuid(), approvedEvent.Str("comment"), approvedEvent.Str("status")));

        // The grant: listed per product and per user, and the product says the caller has access.
        var grants = (await cast.Bystander.Client.GetAsync($"{cast.Grants}?product_id={cast.ProductId}")).Items();
        var grant = Assert.Single(grants);
        Assert.Equal(approvedEvent.GetProperty("grant_id").GetGuid(), grant.Id());
        Assert.Equal((cast.Requester.Id, "read", true, id), (grant.GetProperty("user").Id(), grant.Str("access_level"), grant.GetProperty("is_active").GetBoolean(), grant.GetProperty("request_id").GetGuid()));
        Assert.Equal(grant.Id(), Assert.Single((await rita.GetAsync($"{cast.Grants}?user_id={cast.Requester.Id}&active=true")).Items()).Id());
        Assert.Empty((await rita.GetAsync($"{cast.Grants}?user_id={cast.Bystander.Id}")).Items());
        Assert.Equal(grant.Id(), (await rita.GetAsync($"{cast.Requests}/{id}")).Json.GetProperty("grant_id").GetGuid());
        ritaAccess = await rita.GetAsync($"/api/v1/spaces/{cast.Space}/products/{cast.ProductId}/access");
        Assert.Equal((true, "read", JsonValueKind.Null), (ritaAccess.Json.GetProperty("has_active_grant").GetBoolean(), ritaAccess.Json.Str("highest_level"), ritaAccess.Json.GetProperty("pending_request_id").ValueKind));
        Assert.False((await cast.Bystander.Client.GetAsync($"/api/v1/spaces/{cast.Space}/products/orders/access")).Json.GetProperty("has_active_grant").GetBoolean());

        // Decided once: a second decision, by anyone, is a conflict.
        var again = await cast.Steward.Client.PostAsync($"{cast.Requests}/{id}/approve", new { });
        Assert.Equal((409, "already_decided"), (again.Status, again.Code()));
        Assert.Equal(409, (await cast.Admin.Client.PostAsync($"{cast.Requests}/{id}/reject", new { comment = "no" })).Status);

        // Revoking: not by the grantee or a bystander; by the steward, once.
        Assert.Equal(403, (await rita.PostAsync($"{cast.Grants}/{grant.Id()}/revoke", new { })).Status);
        Assert.Equal(403, (await cast.Bystander.Client.PostAsync($"{cast.Grants}/{grant.Id()}/revoke", new { })).Status);
        var revoked = await cast.Steward.Client.PostAsync($"{cast.Grants}/{grant.Id()}/revoke", new { comment = "Report delivered" });
        Assert.True(revoked.Status == 200, revoked.ToString());
        Assert.Equal((false, "revoked", cast.Steward.Id), (revoked.Json.GetProperty("is_active").GetBoolean(), revoked.Json.Str("end_reason"), revoked.Json.GetProperty("revoked_by_id").GetGuid()));
        var revokedTwice = await cast.Admin.Client.PostAsync($"{cast.Grants}/{grant.Id()}/revoke", new { });
        Assert.Equal((409, "already_revoked"), (revokedTwice.Status, revokedTwice.Code()));
        events = await app.EventsAsync(id);
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestApproved, OutboxEventTypes.AccessGrantRevoked], events.Select(e => e.Type));
        Assert.Equal([cast.Requester.Id], AccessFixture.Recipients(events[2].Payload));
        Assert.Equal(("revoked", "Report delivered", cast.Steward.Id), (events[2].Payload.Str("end_reason"), events[2].Payload.Str("comment"), events[2].Payload.GetProperty("actor_id").GetGuid()));
        Assert.False((await rita.GetAsync($"/api/v1/spaces/{cast.Space}/products/orders/access")).Json.GetProperty("has_active_grant").GetBoolean());
        Assert.Empty((await rita.GetAsync($"{cast.Grants}?product_id={cast.ProductId}&active=true")).Items());
        Assert.Single((await rita.GetAsync($"{cast.Grants}?product_id={cast.ProductId}&active=false")).Items());
    }

    [Fact]
    public async Task A_rejection_needs_a_comment_and_tells_the_requester()
    {
        var cast = await AccessCast.CreateAsync(app);
        var id = (await AccessFixture.SubmitAsync(cast.Requester.Client, cast.Space, new { product_id = cast.ProductId, access_level = "write", justification = "Backfill" })).Id();
        await app.WaitForEventsAsync(id, 1);

        var bare = await cast.Steward.Client.PostAsync($"{cast.Requests}/{id}/reject", new { });
        Assert.Equal(("missing", "body.comment"), (bare.ErrorType(), bare.Loc()));
        Assert.Equal(403, (await cast.Bystander.Client.PostAsync($"{cast.Requests}/{id}/reject", new { comment = "no" })).Status);
        var rejected = await cast.Steward.Client.PostAsync($"{cast.Requests}/{id}/reject", new { comment = "Use the aggregate view" });
        Assert.True(rejected.Status == 200, rejected.ToString());
        Assert.Equal("rejected", rejected.Json.Str("status"));
        Assert.Equal("rejected", await app.WaitForOrchestrationAsync(id));

        var events = await app.EventsAsync(id);
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestRejected], events.Select(e => e.Type));
        Assert.Equal([cast.Requester.Id], AccessFixture.Recipients(events[1].Payload));
        Assert.Equal(("Use the aggregate view", "write", cast.Steward.Id), (events[1].Payload.Str("comment"), events[1].Payload.Str("access_level"), events[1].Payload.GetProperty("actor_id").GetGuid()));
        Assert.Empty((await cast.Admin.Client.GetAsync($"{cast.Grants}?product_id={cast.ProductId}")).Items());
        Assert.Equal(409, (await cast.Owner.Client.PostAsync($"{cast.Requests}/{id}/approve", new { })).Status);
        Assert.Equal(["rejected"], (await cast.Requester.Client.GetAsync($"{cast.Requests}?status=rejected")).Items().Select(r => r.Str("status")));
    }

    [Fact]
    public async Task Two_concurrent_decisions_give_one_200_and_one_409()
    {
        var cast = await AccessCast.CreateAsync(app);
        for (var round = 0; round < 3; round++)
        {
            var id = (await AccessFixture.SubmitAsync(cast.Requester.Client, cast.Space, new { product_id = cast.ProductId, justification = $"Round {round}", access_level = round == 0 ? "read" : round == 1 ? "write" : "admin" })).Id();
            var results = await Task.WhenAll(
                cast.Owner.Client.PostAsync($"{cast.Requests}/{id}/approve", new { }),
                cast.Steward.Client.PostAsync($"{cast.Requests}/{id}/reject", new { comment = "No" }));
            Assert.Equal([200, 409], results.Select(r => r.Status).Order());
            var winner = results.Single(r => r.Status == 200).Json.Str("status");
            Assert.Equal("already_decided", results.Single(r => r.Status == 409).Code());
            Assert.Equal(winner, await app.WaitForOrchestrationAsync(id));
            Assert.Equal(winner, (await cast.Requester.Client.GetAsync($"{cast.Requests}/{id}")).Json.Str("status"));
            var events = await app.EventsAsync(id);
            Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, winner == "approved" ? OutboxEventTypes.AccessRequestApproved : OutboxEventTypes.AccessRequestRejected], events.Select(e => e.Type));
            Assert.Equal(winner == "approved" ? 1L : 0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM access_grants WHERE request_id = '{id}'"));
        }
    }

    [Fact]
    public async Task A_time_limited_grant_is_revoked_by_the_durable_timer_at_its_end()
    {
        var cast = await AccessCast.CreateAsync(app);
        var endsAt = app.Clock.GetUtcNow().AddSeconds(4);
        var id = (await AccessFixture.SubmitAsync(cast.Requester.Client, cast.Space, new { product_id = cast.ProductId, justification = "Audit", ends_at = endsAt })).Id();
        var approved = await cast.Admin.Client.PostAsync($"{cast.Requests}/{id}/approve", new { });
        Assert.True(approved.Status == 200, approved.ToString());
        var approvedAt = DateTime.UtcNow;

        var events = await app.WaitForEventsAsync(id, 2);
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestApproved], events.Select(e => e.Type));
        Assert.Equal(endsAt, events[1].Payload.GetProperty("ends_at").GetDateTimeOffset());
        var grant = Assert.Single((await cast.Requester.Client.GetAsync($"{cast.Grants}?user_id={cast.Requester.Id}")).Items());
        Assert.Equal((endsAt, true), (grant.GetProperty("ends_at").GetDateTimeOffset(), grant.GetProperty("is_active").GetBoolean()));

        // The orchestration sleeps until the end, then revokes.
        Assert.Equal("approved_then_ended", await app.WaitForOrchestrationAsync(id));
        Assert.True(DateTime.UtcNow - approvedAt >= TimeSpan.FromSeconds(3.5), $"revoked after {(DateTime.UtcNow - approvedAt).TotalSeconds:F1}s");
        events = await app.EventsAsync(id);
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestApproved, OutboxEventTypes.AccessGrantRevoked], events.Select(e => e.Type));
        Assert.Equal([cast.Requester.Id], AccessFixture.Recipients(events[2].Payload));
        Assert.Equal(("ended", grant.Id()), (events[2].Payload.Str("end_reason"), events[2].Payload.GetProperty("grant_id").GetGuid()));
        var ended = Assert.Single((await cast.Requester.Client.GetAsync($"{cast.Grants}?user_id={cast.Requester.Id}")).Items());
        Assert.Equal(("ended", JsonValueKind.Null), (ended.Str("end_reason"), ended.GetProperty("revoked_by_id").ValueKind));
        Assert.Equal(app.Clock.GetUtcNow(), ended.GetProperty("revoked_at").GetDateTimeOffset());
        Assert.Equal(409, (await cast.Admin.Client.PostAsync($"{cast.Grants}/{grant.Id()}/revoke", new { })).Status);
    }

    [Fact]
    public async Task A_source_role_request_is_decided_by_space_admins_and_lasts_its_duration()
    {
        var cast = await AccessCast.CreateAsync(app);
        var connector = (await Ingestion.IngestionFixture.CreateConnectorAsync(cast.Admin.Client, cast.Space, new { name = "Warehouse dbt", platform = "dbt_manifest" })).Id();
        var submitted = await AccessFixture.SubmitAsync(cast.Requester.Client, cast.Space, new { connector_id = connector, role_name = "analyst_rw", access_level = "write", justification = "Loads", duration_days = 30 });
        var id = submitted.Id();
        Assert.Equal(("source_role", "Warehouse dbt", "analyst_rw"), (submitted.GetProperty("target").Str("kind"), submitted.GetProperty("target").Str("connector_name"), submitted.GetProperty("target").Str("role_name")));
        Assert.Equal(new[] { cast.RootId, cast.Admin.Id }.Order(), submitted.GetProperty("approver_ids").EnumerateArray().Select(x => x.GetGuid()));
        var events = await app.WaitForEventsAsync(id, 1);
        Assert.Equal(new[] { cast.RootId, cast.Admin.Id }.Order(), AccessFixture.Recipients(events[0].Payload));
        Assert.Equal("Warehouse dbt: analyst_rw", events[0].Payload.Str("target_name"));

        // The product's owner has no say over a source role.
        Assert.Equal(403, (await cast.Owner.Client.PostAsync($"{cast.Requests}/{id}/approve", new { })).Status);
        Assert.Empty((await cast.Owner.Client.GetAsync($"{cast.Requests}?view=to_approve")).Items());
        Assert.Equal(200, (await cast.Admin.Client.PostAsync($"{cast.Requests}/{id}/approve", new { })).Status);
        events = await app.WaitForEventsAsync(id, 2);
        Assert.Equal(OutboxEventTypes.AccessRequestApproved, events[1].Type);
        var grant = Assert.Single((await cast.Admin.Client.GetAsync($"{cast.Grants}?user_id={cast.Requester.Id}")).Items());
        Assert.Equal((app.Clock.GetUtcNow().AddDays(30), "write", connector, "analyst_rw"),
            (grant.GetProperty("ends_at").GetDateTimeOffset(), grant.Str("access_level"), grant.GetProperty("target").GetProperty("connector_id").GetGuid(), grant.GetProperty("target").Str("role_name")));
        await app.Durable.TerminateInstanceAsync(AccessOrchestration.InstanceId(id));
    }

    [Fact]
    public async Task An_approver_cannot_approve_their_own_request()
    {
        var cast = await AccessCast.CreateAsync(app);
        var own = await AccessFixture.SubmitAsync(cast.Admin.Client, cast.Space, new { product_id = cast.ProductId, access_level = "admin", justification = "Self-service" });
        var id = own.Id();
        Assert.Equal(new[] { cast.RootId, cast.Owner.Id, cast.Steward.Id }.Order(), own.GetProperty("approver_ids").EnumerateArray().Select(x => x.GetGuid()));
        Assert.False(own.GetProperty("can_decide").GetBoolean());
        var events = await app.WaitForEventsAsync(id, 1);
        Assert.Equal(new[] { cast.RootId, cast.Owner.Id, cast.Steward.Id }.Order(), AccessFixture.Recipients(events[0].Payload));
        Assert.Empty((await cast.Admin.Client.GetAsync($"{cast.Requests}?view=to_approve")).Items());

        var self = await cast.Admin.Client.PostAsync($"{cast.Requests}/{id}/approve", new { });
        Assert.Equal((403, "You cannot decide your own access request."), (self.Status, self.Json.Str("detail")));
        Assert.Equal(403, (await cast.Admin.Client.PostAsync($"{cast.Requests}/{id}/reject", new { comment = "x" })).Status);
        Assert.Equal("pending", (await cast.Admin.Client.GetAsync($"{cast.Requests}/{id}")).Json.Str("status"));
        Assert.Equal(200, (await cast.Owner.Client.PostAsync($"{cast.Requests}/{id}/approve", new { })).Status);
        Assert.Equal("approved", await app.WaitForOrchestrationAsync(id));
    }

    [Fact]
    public async Task The_requester_may_cancel_a_pending_request_and_nobody_else()
    {
        var cast = await AccessCast.CreateAsync(app);
        var id = (await AccessFixture.SubmitAsync(cast.Requester.Client, cast.Space, new { product_id = cast.ProductId, justification = "Curious" })).Id();
        var dup = await cast.Requester.Client.PostAsync(cast.Requests, new { product_id = cast.ProductId, justification = "Again" });
        Assert.Equal((409, "request_pending"), (dup.Status, dup.Code()));
        Assert.Equal(403, (await cast.Admin.Client.PostAsync($"{cast.Requests}/{id}/cancel", new { })).Status);
        var cancelled = await cast.Requester.Client.PostAsync($"{cast.Requests}/{id}/cancel", new { });
        Assert.Equal((200, "cancelled"), (cancelled.Status, cancelled.Json.Str("status")));
        Assert.Equal("cancelled", await app.WaitForOrchestrationAsync(id));
        Assert.Equal(409, (await cast.Requester.Client.PostAsync($"{cast.Requests}/{id}/cancel", new { })).Status);
        Assert.Equal(409, (await cast.Owner.Client.PostAsync($"{cast.Requests}/{id}/approve", new { })).Status);
        // The approvers who were asked hear that it is gone, once; the requester (the actor) is not told.
        var events = await app.EventsAsync(id);
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestCancelled], events.Select(e => e.Type));
        Assert.Equal(AccessFixture.Recipients(events[0].Payload), AccessFixture.Recipients(events[1].Payload));
        Assert.DoesNotContain(cast.Requester.Id, AccessFixture.Recipients(events[1].Payload));
        Assert.Equal(("cancelled", cast.Requester.Id), (events[1].Payload.Str("status"), events[1].Payload.GetProperty("actor_id").GetGuid()));
        Assert.Empty((await cast.Owner.Client.GetAsync($"{cast.Requests}?view=to_approve")).Items());
    }

    [Fact]
    public async Task Bad_input_is_a_422_at_the_field_and_writes_nothing()
    {
        var cast = await AccessCast.CreateAsync(app);
        var other = await app.CreateSpaceAsync(null, (cast.Admin, "admin"));
        var foreign = (await cast.Admin.Client.CreateProductAsync(other, "foreign")).Id();
        var now = app.Clock.GetUtcNow();
        var cases = new (object Body, string Type, string Loc)[]
        {
            (new { product_id = cast.ProductId }, "missing", "body.justification"),
            (new { product_id = cast.ProductId, justification = "   " }, "string_too_short", "body.justification"),
            (new { product_id = cast.ProductId, justification = new string('j', 2001) }, "string_too_long", "body.justification"),
            (new { product_id = cast.ProductId, justification = "x", ends_at = now.AddMinutes(-1) }, "date_in_past", "body.ends_at"),
            (new { product_id = cast.ProductId, justification = "x", ends_at = now }, "date_in_past", "body.ends_at"),
            (new { product_id = cast.ProductId, justification = "x", ends_at = now.AddDays(366) }, "date_too_far", "body.ends_at"),
            (new { product_id = cast.ProductId, justification = "x", duration_days = 0 }, "value_error", "body.duration_days"),
            (new { product_id = cast.ProductId, justification = "x", duration_days = 366 }, "value_error", "body.duration_days"),
            (new { product_id = cast.ProductId, justification = "x", duration_days = 3, ends_at = now.AddDays(1) }, "value_error", "body.duration_days"),
            (new { product_id = Guid.NewGuid(), justification = "x" }, "unknown_product", "body.product_id"),
            (new { product_id = foreign, justification = "x" }, "unknown_product", "body.product_id"),
            (new { justification = "x" }, "missing", "body.product_id"),
            (new { product_id = cast.ProductId, connector_id = Guid.NewGuid(), justification = "x" }, "value_error", "body.connector_id"),
            (new { product_id = cast.ProductId, role_name = "r", justification = "x" }, "value_error", "body.role_name"),
            (new { connector_id = Guid.NewGuid(), justification = "x" }, "string_too_short", "body.role_name"),
            (new { connector_id = Guid.NewGuid(), role_name = "r", justification = "x" }, "unknown_connector", "body.connector_id"),
            (new { product_id = cast.ProductId, justification = "x", access_level = "root" }, "type_error", "body.access_level"),
        };
        foreach (var (body, type, loc) in cases)
        {
            var response = await cast.Requester.Client.PostAsync(cast.Requests, body);
            Assert.True(response.Status == 422, $"{JsonSerializer.Serialize(body)} → {response}");
            Assert.True((type, loc) == (response.ErrorType(), response.Loc()), $"{JsonSerializer.Serialize(body)} → {response}");
        }
        var decision = await cast.Requester.Client.PostAsync($"{cast.Requests}/{Guid.NewGuid()}/reject", new { comment = new string('c', 2001) });
        Assert.Equal(("string_too_long", "body.comment"), (decision.ErrorType(), decision.Loc()));
        Assert.Equal(404, (await cast.Owner.Client.PostAsync($"{cast.Requests}/{Guid.NewGuid()}/approve", new { })).Status);
        Assert.Equal(404, (await cast.Owner.Client.PostAsync($"{cast.Requests}/not-a-uuid/approve", new { })).Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM access_requests WHERE requester_id = '{cast.Requester.Id}'"));
    }

    [Fact]
    public async Task The_activities_are_idempotent_a_second_run_changes_nothing()
    {
        var cast = await AccessCast.CreateAsync(app);
        var endsAt = app.Clock.GetUtcNow().AddDays(2);
        var id = (await AccessFixture.SubmitAsync(cast.Requester.Client, cast.Space, new { product_id = cast.ProductId, justification = "Twice", ends_at = endsAt })).Id();
        Assert.Equal(200, (await cast.Steward.Client.PostAsync($"{cast.Requests}/{id}/approve", new { })).Status);
        await app.WaitForEventsAsync(id, 2);
        await app.Durable.TerminateInstanceAsync(AccessOrchestration.InstanceId(id));
        var grantId = await app.Database.ScalarAsync<Guid>($"SELECT id FROM access_grants WHERE request_id = '{id}'");

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var runner = scope.ServiceProvider.GetRequiredService<AccessRequestRunner>();
            await runner.NotifySubmittedAsync(id, default);
            Assert.False(await runner.RemindAsync(id, default));
            Assert.Equal(AccessRequestStatus.Approved, await runner.ExpireAsync(id, default));
            var outcome = await runner.CompleteAsync(id, default);
            Assert.Equal((AccessRequestStatus.Approved, grantId, 2 * 86400.0), (outcome.Status, outcome.GrantId, outcome.EndsInSeconds));
        }
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestApproved], (await app.EventsAsync(id)).Select(e => e.Type));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM access_grants WHERE request_id = '{id}'"));

        for (var run = 0; run < 2; run++)
        {
            await using var scope = app.Services.CreateAsyncScope();
            Assert.Equal(run == 0, await scope.ServiceProvider.GetRequiredService<AccessRequestRunner>().EndGrantAsync(grantId, default));
        }
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestApproved, OutboxEventTypes.AccessGrantRevoked], (await app.EventsAsync(id)).Select(e => e.Type));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var outcome = await scope.ServiceProvider.GetRequiredService<AccessRequestRunner>().CompleteAsync(id, default);
            Assert.Equal((grantId, (double?)null), (outcome.GrantId, outcome.EndsInSeconds));
        }

        // A request deleted meanwhile (its product deleted) ends the orchestration quietly.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var runner = scope.ServiceProvider.GetRequiredService<AccessRequestRunner>();
            var gone = Guid.NewGuid();
            await runner.NotifySubmittedAsync(gone, default);
            Assert.False(await runner.RemindAsync(gone, default));
            Assert.Equal(AccessRequestStatus.Cancelled, await runner.ExpireAsync(gone, default));
            Assert.Equal(new AccessOutcome(AccessRequestStatus.Cancelled, null, null), await runner.CompleteAsync(gone, default));
            Assert.False(await runner.EndGrantAsync(gone, default));
        }
    }
}

/// <summary>The timer paths with a 2 s reminder and a 5 s deadline.</summary>
public sealed class AccessTimingTests(AccessTimingFixture app) : IClassFixture<AccessTimingFixture>
{
    [Fact]
    public async Task An_undecided_request_is_reminded_once_then_expires()
    {
        var cast = await AccessCast.CreateAsync(app);
        var id = (await AccessFixture.SubmitAsync(cast.Requester.Client, cast.Space, new { product_id = cast.ProductId, justification = "Nobody answers" })).Id();
        Assert.Equal("expired", await app.WaitForOrchestrationAsync(id));

        var events = await app.EventsAsync(id);
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestReminder, OutboxEventTypes.AccessRequestExpired], events.Select(e => e.Type));
        Assert.Equal(cast.ProductApprovers, AccessFixture.Recipients(events[1].Payload));
        Assert.Equal([cast.Requester.Id], AccessFixture.Recipients(events[2].Payload));
        Assert.Equal("expired", events[2].Payload.Str("status"));
        var request = (await cast.Requester.Client.GetAsync($"{cast.Requests}/{id}")).Json;
        Assert.Equal("expired", request.Str("status"));
        Assert.Equal(app.Clock.GetUtcNow(), request.GetProperty("reminder_sent_at").GetDateTimeOffset());
        var late = await cast.Owner.Client.PostAsync($"{cast.Requests}/{id}/approve", new { });
        Assert.Equal((409, "already_decided"), (late.Status, late.Code()));
        Assert.Empty((await cast.Owner.Client.GetAsync($"{cast.Grants}?product_id={cast.ProductId}")).Items());
    }

    [Fact]
    public async Task A_decision_whose_event_was_lost_is_found_at_the_deadline()
    {
        var cast = await AccessCast.CreateAsync(app);
        var id = (await AccessFixture.SubmitAsync(cast.Requester.Client, cast.Space, new { product_id = cast.ProductId, justification = "Lost signal" })).Id();
        // Recorded as the endpoint would, but no event is raised.
        await app.WithDbAsync(async db =>
        {
            var request = await db.Set<AccessRequest>().SingleAsync(r => r.Id == id);
            (request.Status, request.DecidedById, request.DecidedAt) = (AccessRequestStatus.Approved, cast.Owner.Id, app.Clock.GetUtcNow());
            return await db.SaveChangesAsync();
        });
        Assert.Equal("approved", await app.WaitForOrchestrationAsync(id));
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestApproved], (await app.EventsAsync(id)).Select(e => e.Type));
        var grant = Assert.Single((await cast.Requester.Client.GetAsync($"{cast.Grants}?user_id={cast.Requester.Id}")).Items());
        Assert.Equal((cast.Owner.Id, true), (grant.GetProperty("granted_by_id").GetGuid(), grant.GetProperty("is_active").GetBoolean()));
    }

    [Fact]
    public async Task A_request_approved_after_the_reminder_is_granted_and_never_expires()
    {
        var cast = await AccessCast.CreateAsync(app);
        var id = (await AccessFixture.SubmitAsync(cast.Requester.Client, cast.Space, new { product_id = cast.ProductId, justification = "Slow approver" })).Id();
        var events = await app.WaitForEventsAsync(id, 2);
        Assert.Equal(OutboxEventTypes.AccessRequestReminder, events[1].Type);
        Assert.Equal(200, (await cast.Owner.Client.PostAsync($"{cast.Requests}/{id}/approve", new { })).Status);
        Assert.Equal("approved", await app.WaitForOrchestrationAsync(id));
        await Task.Delay(TimeSpan.FromSeconds(4)); // past the deadline: nothing more happens
        Assert.Equal([OutboxEventTypes.AccessRequestSubmitted, OutboxEventTypes.AccessRequestReminder, OutboxEventTypes.AccessRequestApproved],
            (await app.EventsAsync(id)).Select(e => e.Type));
        Assert.Equal("approved", (await cast.Requester.Client.GetAsync($"{cast.Requests}/{id}")).Json.Str("status"));
    }
}
