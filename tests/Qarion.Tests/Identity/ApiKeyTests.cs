using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Identity;

public sealed class ApiKeyTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task The_secret_is_shown_once_and_lists_never_contain_it()
    {
        var user = await app.CreateUserAsync("Keys");
        var created = await user.Client.PostAsync("/api/v1/me/api-keys", new { name = "deploy bot" });
        Assert.Equal(201, created.Status);
        var key = created.Json.GetProperty("key").GetString()!;
        var id = created.Json.GetProperty("id").GetGuid();
        Assert.Equal($"/api/v1/me/api-keys/{id}", created.Header("Location"));
        Assert.Equal(key[..11], created.Json.GetProperty("prefix").GetString());

        var list = await user.Client.GetAsync("/api/v1/me/api-keys");
        Assert.Equal(200, list.Status);
        Assert.DoesNotContain(key, list.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"key\"", list.Body, StringComparison.Ordinal);
        Assert.Contains(list.Json.GetProperty("items").EnumerateArray(), k => k.GetProperty("id").GetGuid() == id && k.GetProperty("name").GetString() == "deploy bot");

        // The new key acts as its creator.
        var me = await app.As(key).GetAsync("/api/v1/me");
        Assert.Equal(user.Id, me.Json.GetProperty("id").GetGuid());
        Assert.Equal(id, me.Json.GetProperty("api_key_id").GetGuid());
    }

    [Fact]
    public async Task Revoked_keys_leave_the_default_list_and_revoking_twice_is_harmless()
    {
        var user = await app.CreateUserAsync("Revoke");
        var created = await user.Client.PostAsync("/api/v1/me/api-keys", new { name = "temp" });
        var id = created.Json.GetProperty("id").GetGuid();
        Assert.Equal(204, (await user.Client.DeleteAsync($"/api/v1/me/api-keys/{id}")).Status);
        Assert.Equal(204, (await user.Client.DeleteAsync($"/api/v1/me/api-keys/{id}")).Status);
        var active = await user.Client.GetAsync("/api/v1/me/api-keys");
        Assert.DoesNotContain(active.Json.GetProperty("items").EnumerateArray(), k => k.GetProperty("id").GetGuid() == id);
        var all = await user.Client.GetAsync("/api/v1/me/api-keys?include_revoked=true");
        var revoked = all.Json.GetProperty("items").EnumerateArray().Single(k => k.GetProperty("id").GetGuid() == id);
        Assert.EndsWith("Z", revoked.GetProperty("revoked_at").GetString(), StringComparison.Ordinal);
        Assert.Equal(404, (await user.Client.DeleteAsync($"/api/v1/me/api-keys/{Guid.CreateVersion7()}")).Status);
    }

    [Fact]
    public async Task Lists_page_with_totals_and_stable_order()
    {
        var user = await app.CreateUserAsync("Pager");
        for (var i = 0; i < 4; i++)
        {
            app.Clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(201, (await user.Client.PostAsync("/api/v1/me/api-keys", new { name = $"k{i}" })).Status);
        }
        var page1 = await user.Client.GetAsync("/api/v1/me/api-keys?page=1&size=2");
        var page3 = await user.Client.GetAsync("/api/v1/me/api-keys?page=3&size=2");
        Assert.Equal(5, page1.Json.GetProperty("total").GetInt32());
        Assert.Equal(2, page1.Json.GetProperty("size").GetInt32());
        Assert.Equal(["k3", "k2"], page1.Json.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("name").GetString()));
        Assert.Equal(["test"], page3.Json.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("name").GetString()));
        var beyond = await user.Client.GetAsync("/api/v1/me/api-keys?page=9&size=2");
        Assert.Equal(0, beyond.Json.GetProperty("items").GetArrayLength());
        Assert.Equal(5, beyond.Json.GetProperty("total").GetInt32());
    }
}
