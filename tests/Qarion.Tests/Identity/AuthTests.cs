using Qarion.Core.Identity;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Identity;

public sealed class AuthTests(AppFixture app) : IClassFixture<AppFixture>
{
    public static TheoryData<string?> BadAuthorizationHeaders() =>
    [
        null,
        "",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Token qk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Bearer qk_short",
        "Bearer qk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Bearer qk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!!",
        "Bearer not-a-key-at-all",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
    ];

    [Theory]
    [MemberData(nameof(BadAuthorizationHeaders))]
    public async Task Missing_malformed_or_unknown_credentials_are_401_with_a_challenge(string? header)
    {
        var headers = header is null ? null : new Dictionary<string, string> { ["Authorization"] = header };
        var response = await app.Anonymous().GetAsync("/api/v1/me", headers);
        Assert.Equal(401, response.Status);
        Assert.StartsWith("Bearer realm=\"qarion\"", response.Header("WWW-Authenticate"), StringComparison.Ordinal);
        Assert.StartsWith("application/problem+json", response.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal("unauthorized", response.Json.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(response.Json.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task A_wrong_secret_with_a_real_prefix_is_401()
    {
        var user = await app.CreateUserAsync("Prefix");
        var forged = user.ApiKey[..ApiKeyTokens.PrefixLength] + new string('A', user.ApiKey.Length - ApiKeyTokens.PrefixLength);
        Assert.Equal(401, (await app.As(forged).GetAsync("/api/v1/me")).Status);
        Assert.Equal(200, (await user.Client.GetAsync("/api/v1/me")).Status);
    }

    [Fact]
    public async Task Revocation_takes_effect_on_the_next_request()
    {
        var user = await app.CreateUserAsync("Revoker");
        var second = await user.Client.PostAsync("/api/v1/me/api-keys", new { name = "ci" });
        Assert.Equal(201, second.Status);
        var secondKey = app.As(second.Json.GetProperty("key").GetString()!);
        Assert.Equal(200, (await secondKey.GetAsync("/api/v1/me")).Status);

        Assert.Equal(204, (await user.Client.DeleteAsync($"/api/v1/me/api-keys/{second.Json.GetProperty("id").GetGuid()}")).Status);
        var after = await secondKey.GetAsync("/api/v1/me");
        Assert.Equal(401, after.Status);
        Assert.Contains("error=\"invalid_token\"", after.Header("WWW-Authenticate"), StringComparison.Ordinal);
        Assert.Equal(200, (await user.Client.GetAsync("/api/v1/me")).Status);
    }

    [Fact]
    public async Task An_expired_key_is_401()
    {
        var user = await app.CreateUserAsync("Expiring");
        var created = await user.Client.PostAsync("/api/v1/me/api-keys", new { name = "short", expires_at = app.Clock.GetUtcNow().AddMinutes(5) });
        Assert.Equal(201, created.Status);
        var key = app.As(created.Json.GetProperty("key").GetString()!);
        Assert.Equal(200, (await key.GetAsync("/api/v1/me")).Status);
        app.Clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(401, (await key.GetAsync("/api/v1/me")).Status);
    }

    [Fact]
    public async Task A_deactivated_users_keys_stop_working()
    {
        var admin = await app.AdminAsync();
        var user = await app.CreateUserAsync("Leaver");
        Assert.Equal(200, (await admin.PatchAsync($"/api/v1/users/{user.Id}", new { is_active = false })).Status);
        Assert.Equal(401, (await user.Client.GetAsync("/api/v1/me")).Status);
    }

    [Fact]
    public async Task Anonymous_endpoints_need_no_key()
    {
        var health = await app.Anonymous().GetAsync("/api/health");
        Assert.NotEqual(401, health.Status);
    }

    [Fact]
    public async Task Me_reports_the_caller_and_their_spaces()
    {
        var user = await app.CreateUserAsync("Member");
        var slug = await app.CreateSpaceAsync(null, (user, "viewer"));
        var me = await user.Client.GetAsync("/api/v1/me");
        Assert.Equal(200, me.Status);
        Assert.Equal(user.Id, me.Json.GetProperty("id").GetGuid());
        Assert.Equal("api_key", me.Json.GetProperty("auth_method").GetString());
        Assert.False(me.Json.GetProperty("is_superadmin").GetBoolean());
        var space = Assert.Single(me.Json.GetProperty("spaces").EnumerateArray());
        Assert.Equal(slug, space.GetProperty("space_slug").GetString());
        Assert.Equal("viewer", space.GetProperty("role").GetString());
    }

    [Fact]
    public async Task Key_use_updates_last_used_at_at_most_once_a_minute()
    {
        var user = await app.CreateUserAsync("Tracked");
        var keyId = (await user.Client.GetAsync("/api/v1/me")).Json.GetProperty("api_key_id").GetGuid();
        var firstUse = app.Clock.GetUtcNow();
        async Task<DateTimeOffset?> LastUsed() => (await user.Client.GetAsync("/api/v1/me/api-keys")).Json
            .GetProperty("items").EnumerateArray().Single(k => k.GetProperty("id").GetGuid() == keyId)
            .GetProperty("last_used_at").GetDateTimeOffset();

        Assert.Equal(firstUse, await LastUsed());
        app.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(firstUse, await LastUsed());
        app.Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(app.Clock.GetUtcNow(), await LastUsed());
    }
}
