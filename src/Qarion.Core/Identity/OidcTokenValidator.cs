using System.Security.Claims;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Qarion.Core.Identity;

/// <summary>A validated SSO identity.</summary>
public sealed record ExternalIdentity(string Issuer, string Subject, string? Email, bool EmailVerified, string? Name);

/// <summary>
/// Validates JWT bearer tokens against the configured OpenID Connect issuer. Singleton: the discovery
/// document and signing keys are cached and refreshed by <see cref="ConfigurationManager{T}"/> (including
/// on an unknown key id, so key rotation needs no restart).
/// </summary>
public sealed class OidcTokenValidator : IDisposable
{
    private readonly OidcOptions _options;
    private readonly ConfigurationManager<OpenIdConnectConfiguration>? _configuration;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly ILogger<OidcTokenValidator> _logger;
    private readonly string? _metadataAddress;
    private readonly HttpDocumentRetriever? _retriever;
    private long _lastForcedRefresh = long.MinValue / 2;
    private static readonly long ForcedRefreshIntervalMs = 30_000;

    static OidcTokenValidator()
    {
        // Without this, IdentityModel refreshes the keys in the background when it meets an unknown kid,
        // so the first request signed with a rotated key is refused. Process-wide; set before any use.
        AppContext.SetSwitch("Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking", true);
    }

    public OidcTokenValidator(IOptions<AuthOptions> options, ILogger<OidcTokenValidator> logger)
    {
        _options = options.Value.Oidc;
        _logger = logger;
        if (!_options.Enabled) return;
        _metadataAddress = _options.Authority!.TrimEnd('/') + "/.well-known/openid-configuration";
        _retriever = new HttpDocumentRetriever(_http) { RequireHttps = _options.RequireHttpsMetadata };
        _configuration = new ConfigurationManager<OpenIdConnectConfiguration>(
            _metadataAddress,
            new OpenIdConnectConfigurationRetriever(),
            _retriever)
        {
            // Keys an issuer retires stop being trusted within the hour rather than the default 12 hours.
            AutomaticRefreshInterval = TimeSpan.FromHours(1),
            // An unknown kid may force a refresh at most this often (forged kids cannot hammer the issuer).
            RefreshInterval = TimeSpan.FromSeconds(30),
        };
    }

    public bool Enabled => _configuration is not null;

    /// <summary>Returns the identity, or null when the token is not valid for this deployment.</summary>
    public async Task<ExternalIdentity?> ValidateAsync(string token, CancellationToken ct)
    {
        if (_configuration is null) return null;
        OpenIdConnectConfiguration config;
        try
        {
            config = await _configuration.GetConfigurationAsync(ct);
        }
        catch (InvalidOperationException ex)
        {
            // The issuer is unreachable: refuse the token (401) rather than fail the request (500).
            _logger.LogWarning(ex, "OpenID Connect metadata could not be loaded from {Authority}", _options.Authority);
            return null;
        }

        var result = await _handler.ValidateTokenAsync(token, Parameters(config));
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException
            && TryClaimForcedRefresh())
        {
            // A key the cached metadata does not know: the issuer may have rotated. Fetch the metadata afresh
            // (at most once per interval) and retry, so the first token signed with a new key is accepted.
            try
            {
                config = await OpenIdConnectConfigurationRetriever.GetAsync(_metadataAddress!, _retriever!, ct);
                result = await _handler.ValidateTokenAsync(token, Parameters(config));
                _configuration.RequestRefresh();
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException)
            {
                _logger.LogWarning(ex, "OpenID Connect metadata could not be refreshed from {Authority}", _options.Authority);
            }
        }
        if (!result.IsValid)
        {
            _logger.LogInformation("JWT rejected: {Reason}", result.Exception?.Message);
            return null;
        }

        var identity = result.ClaimsIdentity;
        var subject = identity.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(subject)) return null;
        var emailClaim = identity.FindFirst("email")?.Value;
        var email = emailClaim ?? identity.FindFirst("preferred_username")?.Value;
        // email_verified vouches for the email claim only, never for preferred_username (often user-chosen).
        var verified = emailClaim is not null
                       && string.Equals(identity.FindFirst("email_verified")?.Value, "true", StringComparison.OrdinalIgnoreCase);
        var name = identity.FindFirst("name")?.Value ?? identity.FindFirst(ClaimTypes.Name)?.Value;
        return new ExternalIdentity(config.Issuer, subject, email, verified, name);
    }

    /// <summary>Lets one caller per interval force a metadata fetch, so forged key ids cannot hammer the issuer.</summary>
    private bool TryClaimForcedRefresh()
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastForcedRefresh);
        return now - last >= ForcedRefreshIntervalMs && Interlocked.CompareExchange(ref _lastForcedRefresh, now, last) == last;
    }

    private TokenValidationParameters Parameters(OpenIdConnectConfiguration config) => new()
    {
        ValidIssuer = config.Issuer,
        ValidAudience = _options.Audience,
        ValidateAudience = !string.IsNullOrEmpty(_options.Audience),
        IssuerSigningKeys = config.SigningKeys,
        ValidateIssuerSigningKey = true,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ClockSkew = TimeSpan.FromSeconds(_options.ClockSkewSeconds),
    };

    public void Dispose() => _http.Dispose();
}
