using System.Net.Http.Json;
using System.Text.Json;
using Qarion.Tests.Catalog;

namespace Qarion.Tests.EndToEnd;

/// <summary>
/// What Durable Functions do under the local host, which has no Durable Task extension: orchestration and
/// activity triggers are never started, and a function with a <c>[DurableClient]</c> input fails when invoked.
/// </summary>
[Collection(LocalHostTestGroup.Name)]
public sealed class DurableUnderLocalHostTests(LocalHostFixture app)
{
    [Fact]
    public async Task Starting_a_sync_needs_a_durable_client_and_fails_with_500()
    {
        var slug = "dur-" + Guid.NewGuid().ToString("N")[..10];
        using (var space = await app.Admin.PostAsJsonAsync("/api/v1/spaces", new { slug, name = "Durable" }))
            Assert.Equal(201, (int)space.StatusCode);
        var cs = new Npgsql.NpgsqlConnectionStringBuilder(app.Database.ConnectionString);
        using var created = await app.Admin.PostAsJsonAsync($"/api/v1/spaces/{slug}/connectors",
            new { name = "self", platform = "postgresql", config = new { host = cs.Host, port = cs.Port, database = cs.Database, ssl_mode = "disable" } });
        var connector = (await created.Content.ReadFromJsonAsync<JsonElement>()).Id();

        using var sync = await app.Admin.PostAsJsonAsync($"/api/v1/spaces/{slug}/connectors/{connector}/sync", new { });
        var body = await sync.Content.ReadAsStringAsync();

        // The [DurableClient] binds lazily; the first call on it (GetInstanceAsync) fails without the host's durable
        // binding data, the service records the job as failed, and the middleware answers 500 problem+json.
        Assert.True((int)sync.StatusCode == 500, $"{(int)sync.StatusCode} {body}");
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal("internal_error", problem.Str("code"));
        var job = await app.Database.ScalarAsync<string>($"SELECT status || ': ' || coalesce(error, '') FROM sync_jobs WHERE connector_id = '{connector}'");
        Assert.True(job.StartsWith("failed: The sync could not be started: ", StringComparison.Ordinal), job);
        // The failed job does not block the next attempt (which fails the same way).
        using var again = await app.Admin.PostAsJsonAsync($"/api/v1/spaces/{slug}/connectors/{connector}/sync", new { });
        Assert.Equal(500, (int)again.StatusCode);
        var invocation = (await app.InvocationsAsync()).Last(r => r.Str("function") == "Connectors_Sync");
        // The middleware turned the exception into the 500, so for the worker the invocation itself succeeded.
        Assert.Equal("Succeeded", invocation.Str("status"));
    }

    [Fact]
    public async Task The_sync_scheduler_timer_succeeds_while_no_sync_is_due()
    {
        using var fire = await app.Anonymous.PostAsJsonAsync("/admin/functions/ConnectorSync_Scheduler", new { });
        Assert.Equal(202, (int)fire.StatusCode);
        JsonElement? run = null;
        for (var i = 0; i < 100 && run is null; i++)
        {
            await Task.Delay(100);
            run = (await app.InvocationsAsync()).Cast<JsonElement?>().LastOrDefault(r => r!.Value.Str("function") == "ConnectorSync_Scheduler");
        }
        Assert.NotNull(run);
        // Its [DurableClient] binds lazily: with no connector due, the client is never used and the run succeeds.
        Assert.True(run.Value.Str("status") == "Succeeded", run.Value.ToString());
    }

    [Fact]
    public async Task Orchestration_and_activity_triggers_are_loaded_but_listed_as_not_run()
    {
        var functions = (await app.Anonymous.GetFromJsonAsync<List<JsonElement>>("/admin/functions"))!;
        Assert.Equal(["AccessRequest", "ConnectorSync"],
            functions.Where(f => f.Str("trigger") == "orchestrationTrigger").Select(f => f.Str("name")).Order(StringComparer.Ordinal).ToArray());
        // Every activity the worker declares is loaded (and not run).
        var declared = typeof(Qarion.Functions.QarionApp).Assembly.GetTypes().SelectMany(t => t.GetMethods())
            .Where(m => m.GetParameters().Any(p => p.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.ActivityTriggerAttribute), false).Length > 0))
            .Select(m => ((Microsoft.Azure.Functions.Worker.FunctionAttribute)m.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Single()).Name)
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Contains("ConnectorSync_Merge", declared);
        Assert.Equal(declared, functions.Where(f => f.Str("trigger") == "activityTrigger").Select(f => f.Str("name")).Order(StringComparer.Ordinal).ToArray());
        Assert.Contains("host: orchestrationTrigger ConnectorSync is not run by this host", app.Host.Output, StringComparison.Ordinal);
        using var fire = await app.Anonymous.PostAsJsonAsync("/admin/functions/ConnectorSync", new { });
        Assert.Equal(400, (int)fire.StatusCode);
    }
}
