namespace Qarion.Core.Ingestion.Postgres;

/// <summary>A <c>postgresql</c> connector's validated config (no secrets: those are <see cref="PostgresCredentials"/>).</summary>
/// <param name="SslMode"><c>disable</c>, <c>prefer</c>, <c>require</c>, <c>verify-ca</c> or <c>verify-full</c>.</param>
public sealed record PostgresSourceConfig(
    string Host,
    int Port,
    string Database,
    string SslMode = "prefer",
    int ConnectTimeoutSeconds = 10,
    int StatementTimeoutSeconds = 60);

public sealed record PostgresCredentials(string Username, string? Password);
