using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Qarion.Core.Identity;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Identity;

/// <summary>
/// The app configured for SSO against a <see cref="LocalOidcIssuer"/> that runs for the fixture's lifetime.
/// The issuer starts before the app container is built, so its URL can be the configured authority.
/// </summary>
public class OidcFixture : AppFixture
{
    public const string Audience = "qarion-api";

    public LocalOidcIssuer Issuer { get; private set; } = null!;

    /// <summary>How many keys the issuer publishes from the start (the first one signs).</summary>
    protected virtual int KeyCount => 2;

    /// <summary>The configured authority; by default the local issuer.</summary>
    protected virtual string Authority => Issuer.Url;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Qarion:Auth:Oidc:Authority"] = Authority,
        ["Qarion:Auth:Oidc:Audience"] = Audience,
        ["Qarion:Auth:Oidc:RequireHttpsMetadata"] = "false",
    };

    public override async Task InitializeAsync()
    {
        Issuer = await LocalOidcIssuer.StartAsync(KeyCount);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            await Issuer.DisposeAsync();
        }
    }

    /// <summary>A client that sends the token as <c>Authorization: Bearer …</c>.</summary>
    public ApiClient WithToken(string token) => As(token);

    /// <summary>A fresh subject with a verified, unique email.</summary>
    public static TokenSpec NewIdentity(string name = "Sso User") => new()
    {
        Email = $"sso-{Guid.NewGuid():N}@example.com",
        EmailVerified = true,
        Name = name,
    };

    public Task<long> UserCountAsync() => Database.ScalarAsync<long>("SELECT count(*) FROM users");

    public Task<(Guid Id, string Email, string? Issuer, string? Subject)?> UserByEmailAsync(string email) => WithDbAsync(async db =>
    {
        var normalized = email.Trim().ToLowerInvariant();
        var u = await db.Users.AsNoTracking().Where(x => x.Email == normalized)
            .Select(x => new { x.Id, x.Email, x.ExternalIssuer, x.ExternalSubject }).SingleOrDefaultAsync();
        return u is null ? ((Guid, string, string?, string?)?)null : (u.Id, u.Email, u.ExternalIssuer, u.ExternalSubject);
    });
}

/// <summary>Only one key, for the rotation test: a fresh validator whose one free metadata refresh is unspent.</summary>
public sealed class OidcRotationFixture : OidcFixture
{
    protected override int KeyCount => 1;
}

/// <summary>SSO configured, but the authority is a closed port: nothing answers the discovery request.</summary>
public sealed class OidcUnreachableFixture : OidcFixture
{
    public const string DeadAuthority = "http://127.0.0.1:1";
    protected override int KeyCount => 1;
    protected override string Authority => DeadAuthority;
}

public sealed class OidcTests(OidcFixture app) : IClassFixture<OidcFixture>
{
    private static void AssertInvalidToken(ApiResponse response, string because)
    {
        Assert.True(response.Status == 401, $"{because}: expected 401, got {response}");
        var challenge = response.Header("WWW-Authenticate");
        Assert.NotNull(challenge);
        Assert.StartsWith("Bearer", challenge, StringComparison.Ordinal);
        Assert.Contains("error=\"invalid_token\"", challenge, StringComparison.Ordinal);
        Assert.Equal("unauthorized", response.Json.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Valid_token_for_a_new_subject_provisions_a_user_once_and_reuses_it()
    {
        var spec = OidcFixture.NewIdentity("Ada Lovelace") with { Email = $"Ada.SSO-{Guid.NewGuid():N}@Example.COM" };
        var before = await app.UserCountAsync();

        var token = app.Issuer.CreateToken(spec);
        var me = await app.WithToken(token).GetAsync("/api/v1/me");

        Assert.Equal(200, me.Status);
        Assert.Equal("jwt", me.Json.GetProperty("auth_method").GetString());
        Assert.Equal(spec.Email!.ToLowerInvariant(), me.Json.GetProperty("email").GetString());
        Assert.Equal("Ada Lovelace", me.Json.GetProperty("display_name").GetString());
        Assert.False(me.Json.GetProperty("is_superadmin").GetBoolean());
        Assert.Equal(JsonValueKind.Null, me.Json.GetProperty("api_key_id").ValueKind);
        Assert.Empty(me.Json.GetProperty("spaces").EnumerateArray());
        var id = me.Json.GetProperty("id").GetGuid();

        Assert.Equal(before + 1, await app.UserCountAsync());
        var row = await app.UserByEmailAsync(spec.Email);
        Assert.NotNull(row);
        Assert.Equal(id, row.Value.Id);
        Assert.Equal(app.Issuer.Url, row.Value.Issuer);
        Assert.Equal(spec.Subject, row.Value.Subject);

        // Same token again, and a newly minted one for the same subject: the same user, no new row.
        var again = await app.WithToken(token).GetAsync("/api/v1/me");
        Assert.Equal(200, again.Status);
        Assert.Equal(id, again.Json.GetProperty("id").GetGuid());
        var fresh = await app.WithToken(app.Issuer.CreateToken(spec with { Name = "Renamed" })).GetAsync("/api/v1/me");
        Assert.Equal(200, fresh.Status);
        Assert.Equal(id, fresh.Json.GetProperty("id").GetGuid());
        Assert.Equal(before + 1, await app.UserCountAsync());

        // The platform sees the user as an SSO user.
        var admin = await app.AdminAsync();
        var viewed = await admin.GetAsync($"/api/v1/users/{id}");
        Assert.Equal(200, viewed.Status);
        Assert.True(viewed.Json.GetProperty("is_sso").GetBoolean());
    }

    [Fact]
    public async Task Tokens_signed_with_either_published_key_are_accepted()
    {
        var keys = app.Issuer.PublishedKeys;
        Assert.Equal(2, keys.Count);
        foreach (var key in keys)
        {
            var me = await app.WithToken(app.Issuer.CreateToken(OidcFixture.NewIdentity() with { SigningKey = key })).GetAsync("/api/v1/me");
            Assert.True(me.Status == 200, $"key {key.KeyId}: {me}");
            Assert.Equal("jwt", me.Json.GetProperty("auth_method").GetString());
        }
    }

    [Fact]
    public async Task Invalid_tokens_are_401_with_a_bearer_challenge_and_provision_nobody()
    {
        var issuer = app.Issuer;
        var now = DateTime.UtcNow;
        using var unpublishedRsa = RSA.Create(2048);
        using var impostorRsa = RSA.Create(2048);
        var unpublished = new RsaSecurityKey(unpublishedRsa) { KeyId = "key-never-published" };
        var impostor = new RsaSecurityKey(impostorRsa) { KeyId = issuer.CurrentKey.KeyId };

        var valid = issuer.CreateToken(OidcFixture.NewIdentity());
        var parts = valid.Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
        payload["sub"] = "someone-else";
        payload["email"] = "root@example.com";
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{parts[2]}";
        var unsigned = $"{Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{parts[1]}.";
        var hmac = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer.Url,
            Audience = OidcFixture.Audience,
            Expires = now.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = "hmac-" + Guid.NewGuid(), ["email"] = $"hmac-{Guid.NewGuid():N}@example.com", ["email_verified"] = true },
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(issuer.CurrentKey.KeyId.PadRight(64, 'x'))) { KeyId = issuer.CurrentKey.KeyId },
                SecurityAlgorithms.HmacSha256),
        });

        var cases = new (string Because, string Token)[]
        {
            ("wrong audience", issuer.CreateToken(OidcFixture.NewIdentity() with { Audience = "some-other-api" })),
            ("no audience", issuer.CreateToken(OidcFixture.NewIdentity() with { Audience = null })),
            ("expired", issuer.CreateToken(OidcFixture.NewIdentity() with { NotBefore = now.AddMinutes(-30), Expires = now.AddMinutes(-10) })),
            ("not yet valid", issuer.CreateToken(OidcFixture.NewIdentity() with { NotBefore = now.AddMinutes(10), Expires = now.AddMinutes(20) })),
            ("no expiry", issuer.CreateToken(OidcFixture.NewIdentity() with { NoExpiry = true })),
            ("signed by an unpublished key with an unknown kid", issuer.CreateToken(OidcFixture.NewIdentity() with { SigningKey = unpublished })),
            ("signed by another key reusing a published kid", issuer.CreateToken(OidcFixture.NewIdentity() with { SigningKey = impostor })),
            ("other issuer", issuer.CreateToken(OidcFixture.NewIdentity() with { Issuer = issuer.Url + "/other" })),
            ("no subject", issuer.CreateToken(OidcFixture.NewIdentity() with { Subject = null })),
            ("payload changed after signing", tampered),
            ("alg none", unsigned),
            ("HS256 with a guessable secret", hmac),
            ("garbage three-part token", "a.b.c"),
            ("empty three-part token", ".."),
        };

        var before = await app.UserCountAsync();
        foreach (var (because, token) in cases)
        {
            var response = await app.WithToken(token).GetAsync("/api/v1/me");
            AssertInvalidToken(response, because);
        }
        Assert.Equal(before, await app.UserCountAsync());
        Assert.Equal(0L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM users WHERE external_subject = 'someone-else'"));
    }

    [Fact]
    public async Task Verified_email_links_an_existing_local_user()
    {
        var local = await app.CreateUserAsync("Grace");
        var spec = OidcFixture.NewIdentity("Grace via SSO") with { Email = "  " + local.Email.ToUpperInvariant() + " " };
        var before = await app.UserCountAsync();

        var me = await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me");

        Assert.Equal(200, me.Status);
        Assert.Equal(local.Id, me.Json.GetProperty("id").GetGuid());
        Assert.Equal("jwt", me.Json.GetProperty("auth_method").GetString());
        Assert.Equal(local.Email, me.Json.GetProperty("email").GetString());
        Assert.Equal(before, await app.UserCountAsync());
        var row = await app.UserByEmailAsync(local.Email);
        Assert.Equal(app.Issuer.Url, row!.Value.Issuer);
        Assert.Equal(spec.Subject, row.Value.Subject);

        // Signed in again (now found by issuer + subject), and the local API key still works.
        var again = await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me");
        Assert.Equal(local.Id, again.Json.GetProperty("id").GetGuid());
        var byKey = await local.Client.GetAsync("/api/v1/me");
        Assert.Equal(200, byKey.Status);
        Assert.Equal(local.Id, byKey.Json.GetProperty("id").GetGuid());
        Assert.Equal("api_key", byKey.Json.GetProperty("auth_method").GetString());
    }

    [Fact]
    public async Task Unverified_email_does_not_link_and_is_refused_because_the_email_belongs_to_another_user()
    {
        var local = await app.CreateUserAsync("Hopper");
        var before = await app.UserCountAsync();

        foreach (var spec in new[]
        {
            OidcFixture.NewIdentity() with { Email = local.Email, EmailVerified = false },
            OidcFixture.NewIdentity() with { Email = local.Email, EmailVerified = null },
        })
        {
            var response = await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me");
            AssertInvalidToken(response, $"email_verified={spec.EmailVerified?.ToString() ?? "absent"}");
            Assert.Contains("belongs to another user", response.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM users WHERE external_subject = '{spec.Subject}'"));
        }

        var row = await app.UserByEmailAsync(local.Email);
        Assert.Equal(local.Id, row!.Value.Id);
        Assert.Null(row.Value.Issuer);
        Assert.Null(row.Value.Subject);
        Assert.Equal(before, await app.UserCountAsync());
    }

    [Fact]
    public async Task Email_verified_does_not_vouch_for_preferred_username()
    {
        // email_verified speaks about the email claim. A token without one, whose (often user-chosen)
        // preferred_username equals a local user's email, must not link to that user.
        var local = await app.CreateUserAsync("Victim");
        var spec = OidcFixture.NewIdentity() with
        {
            Email = null,
            EmailVerified = true,
            ExtraClaims = new Dictionary<string, object> { ["preferred_username"] = local.Email },
        };

        var response = await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me");

        Assert.False(response.Status == 200 && response.Json.GetProperty("id").GetGuid() == local.Id,
            $"the SSO identity was linked to the local user {local.Id} through preferred_username: {response}");
        Assert.Null((await app.UserByEmailAsync(local.Email))!.Value.Subject);
    }

    [Fact]
    public async Task A_second_subject_with_the_same_verified_email_does_not_take_over_a_linked_user()
    {
        var first = OidcFixture.NewIdentity("First");
        var me = await app.WithToken(app.Issuer.CreateToken(first)).GetAsync("/api/v1/me");
        Assert.Equal(200, me.Status);
        var id = me.Json.GetProperty("id").GetGuid();

        var second = OidcFixture.NewIdentity("Second") with { Email = first.Email };
        var refused = await app.WithToken(app.Issuer.CreateToken(second)).GetAsync("/api/v1/me");

        AssertInvalidToken(refused, "second subject");
        var row = await app.UserByEmailAsync(first.Email!);
        Assert.Equal(id, row!.Value.Id);
        Assert.Equal(first.Subject, row.Value.Subject);
    }

    [Fact]
    public async Task Deactivated_sso_user_is_refused()
    {
        var spec = OidcFixture.NewIdentity("Leaver");
        var client = app.WithToken(app.Issuer.CreateToken(spec));
        var me = await client.GetAsync("/api/v1/me");
        Assert.Equal(200, me.Status);
        var id = me.Json.GetProperty("id").GetGuid();

        var admin = await app.AdminAsync();
        var patched = await admin.PatchAsync($"/api/v1/users/{id}", new { is_active = false });
        Assert.Equal(200, patched.Status);
        Assert.False(patched.Json.GetProperty("is_active").GetBoolean());

        var refused = await client.GetAsync("/api/v1/me");
        AssertInvalidToken(refused, "deactivated");
        Assert.Contains("deactivated", refused.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // A freshly minted token does not help either.
        AssertInvalidToken(await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me"), "deactivated, new token");
    }

    [Fact]
    public async Task Deactivated_local_user_is_not_linked_by_sso()
    {
        var local = await app.CreateUserAsync("Dormant");
        var admin = await app.AdminAsync();
        Assert.Equal(200, (await admin.PatchAsync($"/api/v1/users/{local.Id}", new { is_active = false })).Status);

        var spec = OidcFixture.NewIdentity() with { Email = local.Email };
        var refused = await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me");

        AssertInvalidToken(refused, "deactivated local user");
        Assert.Contains("deactivated", refused.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var row = await app.UserByEmailAsync(local.Email);
        Assert.Null(row!.Value.Subject);
    }

    [Fact]
    public async Task Superadmin_rights_come_from_the_qarion_user_not_from_token_claims()
    {
        var spec = OidcFixture.NewIdentity("Claims Admin") with
        {
            ExtraClaims = new Dictionary<string, object>
            {
                ["is_superadmin"] = true,
                ["superadmin"] = true,
                ["role"] = "superadmin",
                ["roles"] = new[] { "superadmin", "admin", "Qarion.Admin" },
                ["groups"] = new[] { "admins" },
                ["scp"] = "admin",
            },
        };
        var client = app.WithToken(app.Issuer.CreateToken(spec));

        var me = await client.GetAsync("/api/v1/me");
        Assert.Equal(200, me.Status);
        Assert.False(me.Json.GetProperty("is_superadmin").GetBoolean());

        var slug = "claims-" + Guid.NewGuid().ToString("N")[..10];
        var created = await client.PostAsync("/api/v1/spaces", new { slug, name = "Claimed" });
        Assert.Equal(403, created.Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM spaces WHERE slug = '{slug}'"));

        // The other way round: a Qarion superadmin signing in by SSO, with no such claims, may.
        var boss = await app.CreateUserAsync("Boss", superadmin: true);
        var bossClient = app.WithToken(app.Issuer.CreateToken(OidcFixture.NewIdentity() with { Email = boss.Email }));
        var bossSlug = "boss-" + Guid.NewGuid().ToString("N")[..10];
        var allowed = await bossClient.PostAsync("/api/v1/spaces", new { slug = bossSlug, name = "Boss space" });
        Assert.Equal(201, allowed.Status);
    }

    [Fact]
    public async Task Oversized_claims_are_refused_or_trimmed_never_a_500()
    {
        var cases = new (string Because, TokenSpec Spec)[]
        {
            ("name longer than display_name (200)", OidcFixture.NewIdentity(new string('n', 300))),
            ("subject longer than external_subject (255)", OidcFixture.NewIdentity() with { Subject = new string('s', 300) }),
            ("email longer than email (320)", OidcFixture.NewIdentity() with { Email = new string('e', 330) + "@example.com" }),
        };
        var failures = new List<string>();
        foreach (var (because, spec) in cases)
        {
            var response = await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me");
            if (response.Status is not (200 or 401)) failures.Add($"{because}: got {response.Status}");
        }
        Assert.True(failures.Count == 0, "expected 200 or 401 for every case; " + string.Join("; ", failures));
    }

    [Fact]
    public async Task Concurrent_first_sign_ins_of_one_subject_all_succeed_as_one_user()
    {
        // A browser app typically fires several API calls at once right after sign-in. Warm the metadata cache
        // first, so the requests race on provisioning rather than on discovery.
        Assert.Equal(200, (await app.WithToken(app.Issuer.CreateToken(OidcFixture.NewIdentity())).GetAsync("/api/v1/me")).Status);

        var failures = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            var spec = OidcFixture.NewIdentity("Eager");
            var token = app.Issuer.CreateToken(spec);
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var requests = Enumerable.Range(0, 16)
                .Select(_ => Task.Run(async () => { await start.Task; return await app.WithToken(token).GetAsync("/api/v1/me"); }))
                .ToList();
            await Task.Delay(50);
            start.SetResult();
            var responses = await Task.WhenAll(requests);

            failures.AddRange(responses.Where(r => r.Status != 200).Select(r => $"round {round}: {r}"));
            var ids = responses.Where(r => r.Status == 200).Select(r => r.Json.GetProperty("id").GetGuid()).Distinct().ToList();
            Assert.True(ids.Count <= 1, $"round {round}: one subject became {ids.Count} users");
            Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM users WHERE external_subject = '{spec.Subject}'"));
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of 48 concurrent first sign-ins failed, e.g. {failures.FirstOrDefault()}");
    }
}

public sealed class OidcKeyRotationTests(OidcRotationFixture app) : IClassFixture<OidcRotationFixture>
{
    [Fact]
    public async Task Token_signed_with_a_rotated_key_is_accepted_after_the_validator_refreshes_metadata()
    {
        var spec = OidcFixture.NewIdentity("Rotator");
        var first = await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me");
        Assert.Equal(200, first.Status);
        var id = first.Json.GetProperty("id").GetGuid();
        var jwksFetches = app.Issuer.JwksRequests;
        Assert.True(jwksFetches >= 1);

        // The issuer rotates: the new key is the only one published, and the validator has never seen its kid.
        var oldKey = app.Issuer.CurrentKey;
        var newKey = app.Issuer.RotateKey(retireOld: true);
        Assert.NotEqual(oldKey.KeyId, newKey.KeyId);

        // The unknown kid makes the validator fetch the metadata again (IdentityModel 8 does it in the background,
        // so the very first request may still be refused; see OidcKeyRotationFirstRequestTests). No restart, and
        // no waiting for the 12-hour automatic refresh.
        var token = app.Issuer.CreateToken(spec);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        var rotated = await app.WithToken(token).GetAsync("/api/v1/me");
        while (rotated.Status != 200 && DateTime.UtcNow < deadline)
        {
            Assert.Equal(401, rotated.Status);
            await Task.Delay(100);
            rotated = await app.WithToken(token).GetAsync("/api/v1/me");
        }
        Assert.True(rotated.Status == 200, $"token with the new kid after a refresh: {rotated}");
        Assert.Equal(id, rotated.Json.GetProperty("id").GetGuid());
        Assert.True(app.Issuer.JwksRequests > jwksFetches, "the validator should have fetched the JWKS again");
    }
}

public sealed class OidcKeyRotationFirstRequestTests(OidcRotationFixture app) : IClassFixture<OidcRotationFixture>
{
    [Fact]
    public async Task First_request_with_a_rotated_key_is_accepted()
    {
        var spec = OidcFixture.NewIdentity("Rotator");
        Assert.Equal(200, (await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me")).Status);

        app.Issuer.RotateKey(retireOld: true);
        var rotated = await app.WithToken(app.Issuer.CreateToken(spec)).GetAsync("/api/v1/me");

        Assert.True(rotated.Status == 200, $"the first request signed with the new kid should be accepted after the refresh it triggers: {rotated}");
    }
}

public sealed class OidcUnreachableIssuerTests(OidcUnreachableFixture app) : IClassFixture<OidcUnreachableFixture>
{
    [Fact]
    public async Task Jwt_is_401_not_500_and_api_keys_still_work()
    {
        // SSO is on (a token is not refused merely because SSO is off), but nothing answers at the authority.
        Assert.True(app.Services.GetRequiredService<OidcTokenValidator>().Enabled);
        // Signed by some key, claiming the configured (dead) authority as issuer.
        var token = app.Issuer.CreateToken(OidcFixture.NewIdentity() with { Issuer = OidcUnreachableFixture.DeadAuthority });

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var response = await app.WithToken(token).GetAsync("/api/v1/me");
            Assert.True(response.Status == 401, $"attempt {attempt}: expected 401, got {response}");
            var challenge = response.Header("WWW-Authenticate");
            Assert.NotNull(challenge);
            Assert.Contains("error=\"invalid_token\"", challenge, StringComparison.Ordinal);
        }

        var admin = await app.AdminAsync();
        var me = await admin.GetAsync("/api/v1/me");
        Assert.Equal(200, me.Status);
        Assert.Equal("api_key", me.Json.GetProperty("auth_method").GetString());
        var user = await app.CreateUserAsync("Keyholder");
        var userMe = await user.Client.GetAsync("/api/v1/me");
        Assert.Equal(200, userMe.Status);
        Assert.Equal(user.Id, userMe.Json.GetProperty("id").GetGuid());
        Assert.Equal(0L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM users WHERE external_subject IS NOT NULL"));
    }
}
