using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Contracts;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Contracts;

/// <summary>The SLA timer's service: batches, expiry, and concurrent runs that never evaluate one contract twice.</summary>
public sealed class ContractTimerTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<int> RunTimerAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ContractSlaService>().EvaluateDueAsync(CancellationToken.None);
    }

    /// <summary>Active contracts (of every test in this class) not evaluated at or after the fake clock's now.</summary>
    private Task<long> DueAsync()
        => app.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM data_contracts WHERE status = 'active' AND (last_evaluated_at IS NULL OR last_evaluated_at < '{app.Clock.GetUtcNow():O}')");

    [Fact]
    public async Task Two_concurrent_timer_runs_evaluate_each_contract_once_one_violation_and_one_event_each()
    {
        var a = await app.ArrangeAsync();
        await app.SetScoreAsync(a.SpaceId, a.Producer, 40);
        var ids = new List<Guid>();
        for (var i = 0; i < 12; i++) ids.Add(await a.ActiveContractAsync($"Concurrent {i}", new { min_quality_score = 80 }));
        var draft = await a.Editor.Client.PostAsync(ContractApiTests.Contracts(a.Space), new { name = "Draft", producer = "producer", min_quality_score = 80 });
        var due = await DueAsync();

        var runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(RunTimerAsync)));
        Assert.Equal(due, runs.Sum());
        foreach (var id in ids)
        {
            Assert.Equal([("quality_score", "breached", (double?)40.0)], await app.OpenViolationsAsync(id));
            Assert.Equal(1L, await app.EventsAsync(id));
        }
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM contract_violations WHERE contract_id = '{draft.Json.Id()}'"));
        Assert.Equal("unknown", (await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}/{draft.Json.Id()}")).Json.Str("sla_status"));
        var evaluated = (await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}/{ids[0]}")).Json;
        Assert.Equal(("breached", app.Clock.GetUtcNow()), (evaluated.Str("sla_status"), evaluated.GetProperty("last_evaluated_at").GetDateTimeOffset()));

        // Same instant: everything is already evaluated. Five minutes on: evaluated again, still one event each.
        Assert.Equal(0, await RunTimerAsync());
        app.Clock.Advance(TimeSpan.FromMinutes(5));
        due = await DueAsync();
        runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(RunTimerAsync)));
        Assert.Equal(due, runs.Sum());
        foreach (var id in ids) Assert.Equal(1L, await app.EventsAsync(id));
    }

    [Fact]
    public async Task A_contract_past_its_expiry_is_expired_by_the_timer_and_its_violations_closed()
    {
        var a = await app.ArrangeAsync();
        await app.SetScoreAsync(a.SpaceId, a.Producer, 40);
        var expires = app.Clock.GetUtcNow().AddHours(1);
        var active = await a.ActiveContractAsync("Expiring", new { min_quality_score = 80, expires_at = expires });
        var deprecated = await a.ActiveContractAsync("Deprecated expiring", new { min_quality_score = 80, expires_at = expires });
        await a.EvaluateAsync(active);
        Assert.Single(await app.OpenViolationsAsync(active));
        Assert.Equal(200, (await a.Editor.Client.PatchAsync($"{ContractApiTests.Contracts(a.Space)}/{deprecated}", new { status = "deprecated" })).Status);

        app.Clock.Advance(TimeSpan.FromHours(1));
        await RunTimerAsync();
        foreach (var id in new[] { active, deprecated })
        {
            var c = (await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}/{id}")).Json;
            Assert.Equal(("expired", 0), (c.Str("status"), c.GetProperty("open_violations").GetInt32()));
        }
        var closed = (await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}/{active}/violations?state=resolved")).Items().Single();
        Assert.Equal(app.Clock.GetUtcNow(), closed.GetProperty("resolved_at").GetDateTimeOffset());
        Assert.Equal(1L, await app.EventsAsync(active));
        // The expiry is recorded in the audit log, by no user.
        Assert.Equal(1L, await app.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_log WHERE resource_id = '{active}' AND changes->'status'->>'after' = 'expired' AND actor_user_id IS NULL"));
        Assert.Equal("contract_not_active", (await a.Editor.Client.PostAsync($"{ContractApiTests.Contracts(a.Space)}/{active}/evaluate", new { })).Code());
    }

    [Fact]
    public async Task Evaluating_an_active_contract_past_its_expiry_through_the_api_expires_it()
    {
        var a = await app.ArrangeAsync();
        await app.SetScoreAsync(a.SpaceId, a.Producer, 90);
        var id = await a.ActiveContractAsync("Short lived", new { min_quality_score = 80, expires_at = app.Clock.GetUtcNow().AddMinutes(10) });
        Assert.Equal(("active", "meeting"), (await a.EvaluateAsync(id)) is var r ? (r.Str("status"), r.Str("sla_status")) : default);

        app.Clock.Advance(TimeSpan.FromMinutes(10));
        var expired = await a.EvaluateAsync(id);
        // Expired instead of evaluated: the last result stays as it was.
        Assert.Equal(("expired", "meeting"), (expired.Str("status"), expired.Str("sla_status")));
        Assert.Equal(app.Clock.GetUtcNow().AddMinutes(-10), expired.GetProperty("last_evaluated_at").GetDateTimeOffset());
        Assert.Equal([id], (await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}?status=expired")).Items().Select(x => x.Id()));
    }

    [Fact]
    public async Task The_timer_skips_a_contract_whose_row_another_transaction_holds_without_waiting_and_takes_it_next_time()
    {
        var a = await app.ArrangeAsync();
        await app.SetScoreAsync(a.SpaceId, a.Producer, 10);
        var held = await a.ActiveContractAsync("Held", new { min_quality_score = 80 });
        var free = await a.ActiveContractAsync("Free", new { min_quality_score = 80 });
        var due = await DueAsync();

        await using (var connection = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var tx = await connection.BeginTransactionAsync();
            await using (var lockRow = new Npgsql.NpgsqlCommand($"SELECT id FROM data_contracts WHERE id = '{held}' FOR UPDATE", connection, tx))
                await lockRow.ExecuteScalarAsync();
            var run = RunTimerAsync();
            Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))) == run, "the timer waited for the locked row");
            Assert.Equal(due - 1, await run);
            await tx.RollbackAsync();
        }
        Assert.Empty(await app.OpenViolationsAsync(held));
        Assert.Single(await app.OpenViolationsAsync(free));

        Assert.Equal(1L, await DueAsync());
        Assert.Equal(1, await RunTimerAsync());
        Assert.Single(await app.OpenViolationsAsync(held));
        Assert.Equal((1L, 1L), (await app.EventsAsync(held), await app.EventsAsync(free)));
    }
}
