using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Qarion.Tests.Infrastructure;

/// <summary>What to put in a token minted by <see cref="LocalOidcIssuer"/>; null leaves a claim out.</summary>
public sealed record TokenSpec
{
    public string? Subject { get; init; } = "sub-" + Guid.NewGuid().ToString("N");
    public string? Email { get; init; }
    /// <summary>Emitted as a JSON boolean, as real issuers do.</summary>
    public bool? EmailVerified { get; init; }
    public string? Name { get; init; }
    public string? Audience { get; init; } = "qarion-api";
    /// <summary>Defaults to the issuer's own URL.</summary>
    public string? Issuer { get; init; }
    /// <summary>Real (system) time: IdentityModel checks lifetimes against the real clock, not the app's fake one.</summary>
    public DateTime? NotBefore { get; init; }
    public DateTime? Expires { get; init; }
    /// <summary>Leaves out <c>exp</c> altogether.</summary>
    public bool NoExpiry { get; init; }
    /// <summary>Defaults to the issuer's current signing key.</summary>
    public RsaSecurityKey? SigningKey { get; init; }
    public IReadOnlyDictionary<string, object>? ExtraClaims { get; init; }
}

/// <summary>
/// A tiny OpenID Connect issuer on Kestrel (loopback, ephemeral port) for tests: it serves the discovery
/// document and a JWKS with its published RSA keys, and mints RS256 tokens with chosen claims. Keys can be
/// added and retired while it runs, the way a real issuer rotates them.
/// </summary>
public sealed class LocalOidcIssuer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly List<RsaSecurityKey> _published = [];
    private readonly List<RsaSecurityKey> _owned = [];
    private RsaSecurityKey _current;
    private int _discoveryRequests;
    private int _jwksRequests;

    private LocalOidcIssuer(WebApplication app, IEnumerable<RsaSecurityKey> keys)
    {
        _app = app;
        _published.AddRange(keys);
        _owned.AddRange(_published);
        _current = _published[0];
        Url = string.Empty;
    }

    /// <summary>The issuer identifier and base URL, for example <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public string Url { get; private set; }

    public string JwksUri => Url + "/jwks";

    /// <summary>The key new tokens are signed with.</summary>
    public RsaSecurityKey CurrentKey { get { lock (_gate) return _current; } }

    /// <summary>The keys the JWKS endpoint currently publishes.</summary>
    public IReadOnlyList<RsaSecurityKey> PublishedKeys { get { lock (_gate) return [.. _published]; } }

    public int DiscoveryRequests => Volatile.Read(ref _discoveryRequests);
    public int JwksRequests => Volatile.Read(ref _jwksRequests);

    /// <summary>Starts an issuer publishing <paramref name="keyCount"/> keys; the first one signs.</summary>
    public static async Task<LocalOidcIssuer> StartAsync(int keyCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keyCount, 1);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var issuer = new LocalOidcIssuer(app, Enumerable.Range(0, keyCount).Select(_ => CreateKey()));

        app.MapGet("/.well-known/openid-configuration", () =>
        {
            Interlocked.Increment(ref issuer._discoveryRequests);
            return Results.Text(issuer.DiscoveryDocument(), "application/json");
        });
        app.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref issuer._jwksRequests);
            return Results.Text(issuer.JwksDocument(), "application/json");
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var port = new Uri(address).Port;
        issuer.Url = $"http://127.0.0.1:{port}";
        return issuer;
    }

    /// <summary>A fresh 2048-bit RSA key with a unique key id (not published by any issuer until added).</summary>
    public static RsaSecurityKey CreateKey() => new(RSA.Create(2048)) { KeyId = "key-" + Guid.NewGuid().ToString("N")[..12] };

    /// <summary>Publishes a new key and signs with it from now on; the old keys stay published unless <paramref name="retireOld"/>.</summary>
    public RsaSecurityKey RotateKey(bool retireOld = true)
    {
        var key = CreateKey();
        lock (_gate)
        {
            if (retireOld) _published.Clear();
            _published.Add(key);
            _owned.Add(key);
            _current = key;
        }
        return key;
    }

    /// <summary>Signs with an already published key from now on.</summary>
    public void SignWith(RsaSecurityKey key)
    {
        lock (_gate)
        {
            if (!_published.Contains(key)) throw new InvalidOperationException("The key is not published by this issuer.");
            _current = key;
        }
    }

    /// <summary>Mints a signed RS256 JWT.</summary>
    public string CreateToken(TokenSpec? spec = null)
    {
        spec ??= new TokenSpec();
        var now = DateTime.UtcNow;
        var notBefore = spec.NotBefore ?? now.AddSeconds(-5);
        var expires = spec.Expires ?? now.AddMinutes(10);
        var claims = new Dictionary<string, object>(StringComparer.Ordinal);
        if (spec.Subject is not null) claims["sub"] = spec.Subject;
        if (spec.Email is not null) claims["email"] = spec.Email;
        if (spec.EmailVerified is not null) claims["email_verified"] = spec.EmailVerified.Value;
        if (spec.Name is not null) claims["name"] = spec.Name;
        if (spec.ExtraClaims is not null) foreach (var (k, v) in spec.ExtraClaims) claims[k] = v;

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = spec.Issuer ?? Url,
            Audience = spec.Audience,
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = spec.NoExpiry ? null : expires,
            Claims = claims,
            SigningCredentials = new SigningCredentials(spec.SigningKey ?? CurrentKey, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private string DiscoveryDocument() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["issuer"] = Url,
        ["jwks_uri"] = JwksUri,
        ["authorization_endpoint"] = Url + "/authorize",
        ["token_endpoint"] = Url + "/token",
        ["response_types_supported"] = new[] { "code" },
        ["subject_types_supported"] = new[] { "public" },
        ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        ["claims_supported"] = new[] { "sub", "email", "email_verified", "name" },
    });

    private string JwksDocument()
    {
        List<Dictionary<string, string>> keys;
        lock (_gate)
        {
            // Public parameters only: never the private exponent or primes.
            keys = _published.Select(k =>
            {
                var p = k.Rsa.ExportParameters(includePrivateParameters: false);
                return new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["alg"] = "RS256",
                    ["kid"] = k.KeyId,
                    ["n"] = Base64UrlEncoder.Encode(p.Modulus!),
                    ["e"] = Base64UrlEncoder.Encode(p.Exponent!),
                };
            }).ToList();
        }
        return JsonSerializer.Serialize(new { keys });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        lock (_gate)
        {
            foreach (var key in _owned) key.Rsa.Dispose();
        }
    }
}
