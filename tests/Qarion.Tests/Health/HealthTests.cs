using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Health;

public sealed class HealthTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Health_reports_database_and_storage_reachable()
    {
        var response = await app.Anonymous().GetAsync("/api/health");
        Assert.True(response.Status == 200, response.ToString());
        Assert.Equal("ok", response.Json.GetProperty("status").GetString());
        Assert.Equal("ok", response.Json.GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("ok", response.Json.GetProperty("storage").GetProperty("status").GetString());
    }
}

/// <summary>Points the app at a port where nothing listens, as when Azurite or the storage account is down.</summary>
public sealed class BrokenStorageFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["AzureWebJobsStorage"] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;",
    };
}

public sealed class BrokenStorageHealthTests(BrokenStorageFixture app) : IClassFixture<BrokenStorageFixture>
{
    [Fact]
    public async Task Unreachable_storage_is_503_and_names_the_dependency_without_leaking_addresses()
    {
        var response = await app.Anonymous().GetAsync("/api/health");
        Assert.Equal(503, response.Status);
        Assert.Equal("degraded", response.Json.GetProperty("status").GetString());
        Assert.Equal("ok", response.Json.GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("unreachable", response.Json.GetProperty("storage").GetProperty("status").GetString());
        Assert.DoesNotContain("127.0.0.1", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey", response.Body, StringComparison.Ordinal);
    }
}
