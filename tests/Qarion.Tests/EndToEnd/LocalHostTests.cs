using System.Net.Http.Json;
using System.Text.Json;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.EndToEnd;

/// <summary>
/// The real worker behind tools/Qarion.LocalHost, over real HTTP: routing, the worker middleware (authentication,
/// validation, problem+json), model binding, and the queue trigger through Azurite.
/// </summary>
[Collection(LocalHostTestGroup.Name)]
public sealed class LocalHostTests(LocalHostFixture app)
{
    private static async Task<(int Status, JsonElement Json)> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task<string> CreateSpaceAsync()
    {
        var slug = "e2e-" + Guid.NewGuid().ToString("N")[..10];
        var (status, json) = await SendAsync(app.Admin, HttpMethod.Post, "/api/v1/spaces", new { slug, name = "End to end" });
        Assert.True(status == 201, $"{status} {json}");
        return slug;
    }

    [Fact]
    public async Task The_host_starts_the_worker_within_seconds_and_loads_every_function()
    {
        Assert.True(app.Host.StartUp < TimeSpan.FromSeconds(20), $"start-up took {app.Host.StartUp}");
        var status = await app.Anonymous.GetFromJsonAsync<JsonElement>("/admin/host/status");
        Assert.Equal("ready", status.Str("state"));
        Assert.Equal(app.Host.WorkerPid, status.GetProperty("worker_pid").GetInt32());
        var functions = await app.Anonymous.GetFromJsonAsync<List<JsonElement>>("/admin/functions");
        Assert.Equal(status.GetProperty("functions").GetInt32(), functions!.Count);
        Assert.Contains(functions, f => f.Str("name") == "Quality_RunCheck" && f.Str("trigger") == "queueTrigger");
        Assert.Contains(functions, f => f.Str("name") == "Quality_Scheduler" && f.Str("trigger") == "timerTrigger");
        Assert.Contains(app.QueuePrefix + "quality-checks", app.Host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_product_is_created_and_read_back_over_http_with_an_api_key_401_without_one_and_422_on_bad_input()
    {
        var space = await CreateSpaceAsync();

        var (created, product) = await SendAsync(app.Admin, HttpMethod.Post, $"/api/v1/spaces/{space}/products",
            new { slug = "orders", name = "Orders", product_type = "table", description = "All orders" });
        Assert.True(created == 201, $"{created} {product}");
        Assert.Equal("orders", product.Str("slug"));

        var (read, back) = await SendAsync(app.Admin, HttpMethod.Get, $"/api/v1/spaces/{space}/products/orders");
        Assert.Equal(200, read);
        Assert.Equal(product.Id(), back.Id());
        Assert.Equal("Orders", back.Str("name"));
        Assert.Equal("All orders", back.Str("description"));
        Assert.Equal("table", back.Str("product_type"));

        var (anonymous, problem) = await SendAsync(app.Anonymous, HttpMethod.Get, $"/api/v1/spaces/{space}/products/orders");
        Assert.Equal(401, anonymous);
        Assert.Equal(401, problem.GetProperty("status").GetInt32());

        var (wrongKey, _) = await SendAsync(app.WithKey("qk_not-a-real-key"), HttpMethod.Get, $"/api/v1/spaces/{space}/products/orders");
        Assert.Equal(401, wrongKey);

        var (invalid, errors) = await SendAsync(app.Admin, HttpMethod.Post, $"/api/v1/spaces/{space}/products", new { slug = "Not A Slug!", name = "", product_type = "table" });
        Assert.Equal(422, invalid);
        var locs = errors.GetProperty("errors").EnumerateArray().Select(e => string.Join('.', e.GetProperty("loc").EnumerateArray().Select(l => l.ToString()))).ToList();
        Assert.Contains("body.slug", locs);
        Assert.Contains("body.name", locs);

        var (missing, _) = await SendAsync(app.Admin, HttpMethod.Get, $"/api/v1/spaces/{space}/products/no-such-product");
        Assert.Equal(404, missing);
        var (unrouted, _) = await SendAsync(app.Admin, HttpMethod.Get, "/api/v1/no/such/route/here");
        Assert.Equal(404, unrouted);
    }

    [Fact]
    public async Task A_check_run_goes_through_the_real_quality_checks_queue_and_its_status_url_turns_pass()
    {
        var space = await CreateSpaceAsync();
        var (_, product) = await SendAsync(app.Admin, HttpMethod.Post, $"/api/v1/spaces/{space}/products", new { slug = "history", name = "History", product_type = "table" });
        Assert.Equal("history", product.Str("slug"));
        // A connector to the host's own database: its migrations table has a row count the test can know.
        var cs = new Npgsql.NpgsqlConnectionStringBuilder(app.Database.ConnectionString);
        var (createdConnector, connectorJson) = await SendAsync(app.Admin, HttpMethod.Post, $"/api/v1/spaces/{space}/connectors",
            new { name = "self", platform = "postgresql", config = new { host = cs.Host, port = cs.Port, database = cs.Database, ssl_mode = "disable" } });
        Assert.True(createdConnector == 201, $"{createdConnector} {connectorJson}");
        var connector = connectorJson.Id();
        var (credentials, _) = await SendAsync(app.Admin, HttpMethod.Put, $"/api/v1/spaces/{space}/connectors/{connector}/credentials", new { username = cs.Username, password = cs.Password });
        Assert.Equal(200, credentials);
        var migrations = await app.Database.ScalarAsync<long>("SELECT count(*) FROM __ef_migrations_history");
        var (createdCheck, check) = await SendAsync(app.Admin, HttpMethod.Post, $"/api/v1/spaces/{space}/checks", new
        {
            name = "Migrations", slug = "migrations", check_type = "sql_metric", products = new[] { "history" }, connector_id = connector,
            config = new { sql = "SELECT count(*) FROM public.__ef_migrations_history" }, critical = new { @operator = "gte", value = 1 },
        });
        Assert.True(createdCheck == 201, $"{createdCheck} {check}");

        var (accepted, run) = await SendAsync(app.Admin, HttpMethod.Post, $"/api/v1/spaces/{space}/checks/migrations/run", new { });
        Assert.True(accepted == 202, $"{accepted} {run}");
        Assert.Equal("queued", run.Str("status"));

        JsonElement execution = default;
        for (var i = 0; i < 120; i++)
        {
            (_, execution) = await SendAsync(app.Admin, HttpMethod.Get, run.Str("status_url"));
            if (execution.Str("status") is not ("queued" or "running")) break;
            await Task.Delay(250);
        }
        Assert.True(execution.Str("status") == "pass", execution.ToString());
        Assert.Equal(migrations, execution.GetProperty("metric").GetDouble());
        var delivered = (await app.InvocationsAsync()).Where(r => r.Str("function") == "Quality_RunCheck" && r.GetProperty("body").GetString()!.Contains(execution.Id().ToString(), StringComparison.Ordinal)).ToList();
        var only = Assert.Single(delivered);
        Assert.Equal("Succeeded", only.Str("status"));
        Assert.Equal(app.QualityQueue, only.Str("queue"));
        Assert.Equal(1, only.GetProperty("dequeueCount").GetInt64());
    }

    [Fact]
    public async Task A_failing_queue_message_is_retried_maxDequeueCount_times_then_moved_to_the_poison_queue_whose_trigger_takes_it()
    {
        var text = "not a check message " + Guid.NewGuid();
        await LocalHostFixture.Queue(app.QualityQueue).SendMessageAsync(text);

        List<JsonElement> attempts = [];
        JsonElement? poisonRun = null;
        for (var i = 0; i < 200 && poisonRun is null; i++)
        {
            await Task.Delay(150);
            var all = await app.InvocationsAsync();
            attempts = all.Where(r => r.Str("function") == "Quality_RunCheck" && r.GetProperty("body").GetString() == text).ToList();
            poisonRun = all.Cast<JsonElement?>().FirstOrDefault(r => r!.Value.Str("function") == "Quality_RunCheckPoison" && r.Value.GetProperty("body").GetString() == text);
        }

        // host.json: maxDequeueCount 5. Every delivery failed (the function throws on an unreadable message).
        Assert.Equal([1L, 2L, 3L, 4L, 5L], attempts.Select(a => a.GetProperty("dequeueCount").GetInt64()).ToArray());
        Assert.All(attempts, a => Assert.Equal("Failed", a.Str("status")));
        Assert.All(attempts, a => Assert.Contains("is not a check execution message", a.Str("error"), StringComparison.Ordinal));
        Assert.Equal([false, false, false, false, true], attempts.Select(a => a.GetProperty("movedToPoison").GetBoolean()).ToArray());
        Assert.NotNull(poisonRun);
        Assert.Equal(app.QualityQueue + "-poison", poisonRun.Value.Str("queue"));
        Assert.Equal("Succeeded", poisonRun.Value.Str("status"));
        Assert.Equal(1, poisonRun.Value.GetProperty("dequeueCount").GetInt64());
        // Both queues are empty afterwards: deleted from the queue when poisoned, from the poison queue when handled.
        Assert.Empty((await LocalHostFixture.Queue(app.QualityQueue).PeekMessagesAsync(32)).Value);
        Assert.Empty((await LocalHostFixture.Queue(app.QualityQueue + "-poison").PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task A_timer_function_runs_on_demand_through_the_admin_api_and_unknown_functions_are_404()
    {
        var before = (await app.InvocationsAsync()).Count(r => r.Str("function") == "Quality_Scheduler");
        using var fire = await app.Anonymous.PostAsJsonAsync("/admin/functions/Quality_Scheduler", new { });
        Assert.Equal(202, (int)fire.StatusCode);
        JsonElement[] runs = [];
        for (var i = 0; i < 100 && runs.Length <= before; i++)
        {
            await Task.Delay(100);
            runs = (await app.InvocationsAsync()).Where(r => r.Str("function") == "Quality_Scheduler").ToArray();
        }
        Assert.Equal(before + 1, runs.Length);
        Assert.Equal("Succeeded", runs[^1].Str("status"));
        Assert.Equal("timerTrigger", runs[^1].Str("trigger"));

        using var unknown = await app.Anonymous.PostAsJsonAsync("/admin/functions/No_Such_Function", new { });
        Assert.Equal(404, (int)unknown.StatusCode);
    }
}
