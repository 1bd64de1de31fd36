using System.Security.Cryptography;
using System.Text;

namespace Qarion.Core.Webhooks;

/// <summary>
/// Standard Webhooks signing: a secret is <c>whsec_</c> + base64 of the key bytes; each request carries
/// <c>webhook-id</c>, <c>webhook-timestamp</c> (Unix seconds) and <c>webhook-signature: v1,&lt;base64 HMAC-SHA256&gt;</c>
/// of <c>"{id}.{timestamp}.{body}"</c>. See docs/decisions/0006-webhooks.md.
/// </summary>
public static class WebhookSigning
{
    public const string SecretPrefix = "whsec_";
    public const int MinKeyBytes = 24, MaxKeyBytes = 64, GeneratedKeyBytes = 32;

    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(GeneratedKeyBytes));

    /// <summary>The HMAC key of a secret, or null when it is not <c>whsec_</c> + base64 of 24 to 64 bytes.</summary>
    public static byte[]? Key(string? secret)
    {
        if (secret is null || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal) || secret.Length > 200) return null;
        try
        {
            var key = Convert.FromBase64String(secret[SecretPrefix.Length..]);
            return key.Length is >= MinKeyBytes and <= MaxKeyBytes ? key : null;
        }
        catch (FormatException) { return null; }
    }

    /// <summary>The <c>webhook-signature</c> header value.</summary>
    public static string Sign(string secret, string id, long timestamp, string body)
    {
        var key = Key(secret) ?? throw new CryptographicException("The stored webhook secret is not in the whsec_ format.");
        var signature = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(signature);
    }
}

/// <summary>Event type filters: exact names, <c>prefix.*</c> (every type under the prefix) or <c>*</c>.</summary>
public static class EventTypePatterns
{
    public const int MaxPatterns = 30;

    public static bool Matches(string pattern, string eventType)
        => pattern == "*"
           || (pattern.EndsWith(".*", StringComparison.Ordinal) && eventType.StartsWith(pattern[..^1], StringComparison.Ordinal))
           || string.Equals(pattern, eventType, StringComparison.Ordinal);

    public static bool MatchesAny(IEnumerable<string> patterns, string eventType) => patterns.Any(p => Matches(p, eventType));

    /// <summary>True when the pattern names at least one known event type (a typo never silently matches nothing).</summary>
    public static bool IsKnown(string? pattern)
        => !string.IsNullOrEmpty(pattern) && pattern.Length <= 100 && !pattern.Contains("**", StringComparison.Ordinal)
           && (pattern == "*" || !pattern.Contains('*', StringComparison.Ordinal) || (pattern.EndsWith(".*", StringComparison.Ordinal) && pattern.IndexOf('*', StringComparison.Ordinal) == pattern.Length - 1))
           && Outbox.OutboxEventTypes.All.Any(t => Matches(pattern, t));
}
