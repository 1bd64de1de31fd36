namespace Qarion.Functions.Http;

/// <summary>Configuration section <c>Qarion:Http</c>.</summary>
public sealed class HttpOptions
{
    public const string Section = "Qarion:Http";

    /// <summary>Largest JSON request body accepted (413 above it). Uploads that need more get their own endpoint.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}
