using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Qarion.Core.Ingestion;

/// <summary>Settings under <c>Qarion:Ingestion</c>.</summary>
public sealed class IngestionOptions
{
    public const string Section = "Qarion:Ingestion";

    /// <summary>Base64 of 32 random bytes (in Azure a Key Vault reference). Encrypts connector credentials.</summary>
    public string? CredentialKey { get; set; }

    /// <summary>Earlier keys, comma-separated, still accepted for decryption while credentials are re-saved (rotation).</summary>
    public string? PreviousCredentialKeys { get; set; }

    /// <summary>Largest dbt manifest accepted, in bytes (413 above).</summary>
    public long MaxManifestBytes { get; set; } = 64L * 1024 * 1024;
}

/// <summary>
/// Encrypts connector credentials at rest with AES-256-GCM. Each ciphertext names the key that sealed it
/// (a key id derived from the key) and is bound to its connector (the id is the associated data), so a
/// ciphertext copied onto another connector does not decrypt.
/// Layout: version (1) · key id (8) · nonce (12) · tag (16) · ciphertext.
/// </summary>
public sealed class CredentialProtector(IOptions<IngestionOptions> options)
{
    private const byte FormatVersion = 1;
    private const int KeyIdSize = 8, NonceSize = 12, TagSize = 16, HeaderSize = 1 + KeyIdSize + NonceSize + TagSize;

    private IReadOnlyList<byte[]>? _keys;

    public byte[] Protect(Guid connectorId, string plaintext)
    {
        var key = Keys()[0];
        var data = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[HeaderSize + data.Length];
        output[0] = FormatVersion;
        KeyId(key).CopyTo(output.AsSpan(1, KeyIdSize));
        var nonce = output.AsSpan(1 + KeyIdSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, data, output.AsSpan(HeaderSize), output.AsSpan(1 + KeyIdSize + NonceSize, TagSize), connectorId.ToByteArray());
        CryptographicOperations.ZeroMemory(data);
        return output;
    }

    public string Unprotect(Guid connectorId, byte[] sealedData)
    {
        if (sealedData.Length < HeaderSize || sealedData[0] != FormatVersion)
            throw new CryptographicException("Stored credentials are not in a known format.");
        var keyId = sealedData[1..(1 + KeyIdSize)];
        var key = Keys().FirstOrDefault(k => KeyId(k).AsSpan().SequenceEqual(keyId))
                  ?? throw new CryptographicException("Stored credentials were sealed with a key that is no longer configured.");
        var plaintext = new byte[sealedData.Length - HeaderSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedData.AsSpan(1 + KeyIdSize, NonceSize), sealedData.AsSpan(HeaderSize),
            sealedData.AsSpan(1 + KeyIdSize + NonceSize, TagSize), plaintext, connectorId.ToByteArray());
        return Encoding.UTF8.GetString(plaintext);
    }

    /// <summary>A connector's decrypted credentials JSON, or null when none are set; unreadable ones are a <see cref="SourceException"/>.</summary>
    public string? Open(Connector connector)
    {
        if (connector.EncryptedCredentials is null) return null;
        try { return Unprotect(connector.Id, connector.EncryptedCredentials); }
        catch (CryptographicException ex) { throw new SourceException($"The stored credentials cannot be read ({ex.Message}); set them again.", ex); }
        // The key was removed after the credentials were saved: a source failure like any other (the test answers 200,
        // a sync fails without retrying), not the 503 that refuses to store new credentials.
        catch (CredentialKeyMissingException ex)
        {
            throw new SourceException($"The stored credentials cannot be read: no encryption key is configured ({IngestionOptions.Section}:CredentialKey).", ex);
        }
    }

    private IReadOnlyList<byte[]> Keys() => _keys ??= LoadKeys(options.Value);

    private static List<byte[]> LoadKeys(IngestionOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.CredentialKey))
            throw new CredentialKeyMissingException();
        var keys = new List<byte[]> { Decode(o.CredentialKey, "CredentialKey") };
        foreach (var previous in (o.PreviousCredentialKeys ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            keys.Add(Decode(previous, "PreviousCredentialKeys"));
        return keys;
    }

    private static byte[] Decode(string base64, string setting)
    {
        byte[] key;
        try { key = Convert.FromBase64String(base64.Trim()); }
        catch (FormatException) { throw new InvalidOperationException($"{IngestionOptions.Section}:{setting} is not base64."); }
        return key.Length == 32 ? key : throw new InvalidOperationException($"{IngestionOptions.Section}:{setting} must be 32 bytes (base64 of 32 random bytes).");
    }

    private static byte[] KeyId(byte[] key) => SHA256.HashData(key)[..KeyIdSize];
}

/// <summary>No credential key is configured: credentials can be neither stored nor read (the operator must set one).</summary>
public sealed class CredentialKeyMissingException() : Common.QarionException(
    $"Connector credentials cannot be stored: no encryption key is configured ({IngestionOptions.Section}:CredentialKey).")
{
    public override string Code => "credential_key_missing";
}
