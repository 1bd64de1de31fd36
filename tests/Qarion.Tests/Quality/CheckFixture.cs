using System.Text.Json;
using System.Text.Json.Nodes;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Ingestion;

namespace Qarion.Tests.Quality;

/// <summary>A space whose catalog holds Chinook (synced through its postgresql connector), with an admin, an editor and a viewer.</summary>
public sealed record ChinookSpace(string Space, TestUser Admin, TestUser Editor, TestUser Viewer, Guid Connector, Guid AlbumOnly)
{
    public string Checks => $"/api/v1/spaces/{Space}/checks";
}

/// <summary><see cref="IngestionFixture"/> plus one Chinook space built once for the class.</summary>
public sealed class CheckFixture : IngestionFixture
{
    private Task<ChinookSpace>? _chinook;
    private readonly object _lock = new();

    public Task<ChinookSpace> ChinookAsync()
    {
        lock (_lock) return _chinook ??= NewChinookSpaceAsync();
    }

    /// <summary>A new space with Chinook synced, plus a second connector on the same database that catalogues the album table only.</summary>
    public async Task<ChinookSpace> NewChinookSpaceAsync()
    {
        var admin = await CreateUserAsync("Admin");
        var editor = await CreateUserAsync("Editor");
        var viewer = await CreateUserAsync("Viewer");
        var space = await CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (viewer, "viewer"));
        var chinook = TestEnvironment.ConnectionStringFor(await SourceDatabases.ChinookAsync());
        var connector = await CreatePostgresConnectorAsync(admin.Client, space, chinook, name: "chinook");
        Assert.Equal("succeeded", (await SyncAsync(admin.Client, space, connector)).Str("status"));
        var albumOnly = await CreatePostgresConnectorAsync(admin.Client, space, chinook, new { filters = new { table_regex = "^album$" } }, name: "albums");
        Assert.Equal("succeeded", (await SyncAsync(admin.Client, space, albumOnly)).Str("status"));
        return new ChinookSpace(space, admin, editor, viewer, connector, albumOnly);
    }
}

internal static class CheckTestSupport
{
    /// <summary>A create body: the given members on top of a name.</summary>
    public static Dictionary<string, object?> Body(string name, string type, object? products, object? config = null, object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["name"] = name, ["check_type"] = type, ["products"] = products };
        if (config is not null) body["config"] = config;
        if (extra is not null)
            foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        return body;
    }

    public static async Task<JsonElement> CreateCheckAsync(this ApiClient client, ChinookSpace s, Dictionary<string, object?> body)
    {
        var response = await client.SendJsonAsync("POST", s.Checks, body);
        Assert.True(response.Status == 201, $"create {body["name"]}: {response}");
        return response.Json.Clone();
    }

    /// <summary>Structural JSON equality (key order ignored), with both sides in the message when it fails.</summary>
    public static void SameJson(string expected, JsonElement actual)
    {
        var e = JsonNode.Parse(expected);
        var a = JsonNode.Parse(actual.GetRawText());
        Assert.True(JsonNode.DeepEquals(e, a), $"expected {e?.ToJsonString()}\n  actual {a?.ToJsonString()}");
    }

    /// <summary>Every error as "loc type", e.g. "body.config.rules.2.pattern invalid_regex".</summary>
    public static List<string> Errors(this ApiResponse r)
    {
        Assert.True(r.Status == 422, r.ToString());
        return r.Json.GetProperty("errors").EnumerateArray()
            .Select(e => string.Join('.', e.GetProperty("loc").EnumerateArray().Select(x => x.ToString())) + " " + e.GetProperty("type").GetString())
            .ToList();
    }
}
