using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Identity;

public sealed class BootstrapTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static object Request(string token, string email = "first@example.com")
        => new { token, email, display_name = "First Admin" };

    [Fact]
    public async Task Bootstrap_creates_one_superadmin_once_even_under_concurrency()
    {
        var anonymous = app.Anonymous();
        var wrong = await anonymous.PostAsync("/api/v1/bootstrap", Request("not-the-token"));
        Assert.Equal(403, wrong.Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM users"));

        var attempts = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            Task.Run(() => anonymous.PostAsync("/api/v1/bootstrap", Request(AppFixture.BootstrapToken, $"admin{i}@example.com")))));
        var winner = Assert.Single(attempts, r => r.Status == 201);
        Assert.All(attempts.Where(r => r != winner), r =>
        {
            Assert.Equal(409, r.Status);
            Assert.Equal("already_bootstrapped", r.Json.GetProperty("code").GetString());
        });
        Assert.Equal(1L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM users WHERE is_superadmin"));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM api_keys"));

        var key = winner.Json.GetProperty("api_key").GetProperty("key").GetString()!;
        Assert.StartsWith("qk_", key, StringComparison.Ordinal);
        var me = await app.As(key).GetAsync("/api/v1/me");
        Assert.Equal(200, me.Status);
        Assert.True(me.Json.GetProperty("is_superadmin").GetBoolean());

        // Stored hashed: the secret is nowhere in the database.
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM api_keys WHERE encode(secret_hash, 'escape') LIKE '%{key[3..]}%' OR prefix = '{key}'"));

        var later = await anonymous.PostAsync("/api/v1/bootstrap", Request(AppFixture.BootstrapToken, "late@example.com"));
        Assert.Equal(409, later.Status);
    }
}

public sealed class BootstrapDisabledFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Qarion:Auth:BootstrapToken"] = "" };
}

public sealed class BootstrapDisabledTests(BootstrapDisabledFixture app) : IClassFixture<BootstrapDisabledFixture>
{
    [Fact]
    public async Task Without_a_configured_token_the_endpoint_is_404_even_with_an_empty_token()
    {
        foreach (var token in new[] { "", "anything" })
        {
            var response = await app.Anonymous().PostAsync("/api/v1/bootstrap", new { token, email = "x@example.com", display_name = "X" });
            Assert.True(response.Status is 404 or 422, response.ToString());
        }
        var plain = await app.Anonymous().PostAsync("/api/v1/bootstrap", new { token = "anything", email = "x@example.com", display_name = "X" });
        Assert.Equal(404, plain.Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM users"));
    }
}
