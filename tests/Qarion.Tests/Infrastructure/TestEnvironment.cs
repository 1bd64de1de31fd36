using Npgsql;

namespace Qarion.Tests.Infrastructure;

/// <summary>Where the real services that <c>scripts/services</c> starts are. Overridable by environment.</summary>
public static class TestEnvironment
{
    public static string PostgresAdmin { get; } =
        Environment.GetEnvironmentVariable("QARION_TEST_PG")
        ?? "Host=127.0.0.1;Port=54329;Username=qarion;Password=qarion;Database=qarion";

    public static string Storage { get; } =
        Environment.GetEnvironmentVariable("AzureWebJobsStorage") is { Length: > 0 } s ? s :
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;";

    public static string ConnectionStringFor(string database)
        => new NpgsqlConnectionStringBuilder(PostgresAdmin) { Database = database, Pooling = true, MaxPoolSize = 20 }.ConnectionString;

    /// <summary>The repository root (tests read committed files such as the source tree and host.json).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Qarion.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Qarion.sln not found above " + AppContext.BaseDirectory);
    }
}
