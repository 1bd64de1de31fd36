using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Qarion.Core.Identity;

/// <summary>Format: <c>qk_</c> + 32 base64url characters (24 random bytes). The first 11 characters are the lookup prefix.</summary>
public static class ApiKeyTokens
{
    public const string Scheme = "qk_";
    public const int PrefixLength = 11;
    private const int RandomBytes = 24;

    public static string NewToken() => Scheme + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));

    private static readonly System.Buffers.SearchValues<char> Base64UrlChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static bool LooksLikeApiKey(string token)
        => token.StartsWith(Scheme, StringComparison.Ordinal) && token.Length == Scheme.Length + 32
           && token.AsSpan(Scheme.Length).IndexOfAnyExcept(Base64UrlChars) < 0;

    public static string PrefixOf(string token) => token[..PrefixLength];

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));

    public static bool Matches(string token, byte[] storedHash)
        => CryptographicOperations.FixedTimeEquals(Hash(token), storedHash);
}
