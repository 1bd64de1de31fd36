using System.Text;
using System.Text.Json;
using Npgsql;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Catalog;

/// <summary>Small arrange/assert helpers shared by the catalog tests.</summary>
internal static class CatalogTestSupport
{
    private static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Creates a product (asserting 201) and returns its JSON.</summary>
    public static async Task<JsonElement> CreateProductAsync(this ApiClient client, string space, string slug, object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["slug"] = slug, ["name"] = slug, ["product_type"] = "table" };
        if (extra is not null)
            foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        var response = await client.PostAsync($"/api/v1/spaces/{space}/products", body);
        Assert.True(response.Status == 201, $"create {slug}: {response}");
        return response.Json.Clone();
    }

    public static Guid Id(this JsonElement e) => e.GetProperty("id").GetGuid();

    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;

    public static List<JsonElement> Items(this ApiResponse r)
    {
        Assert.True(r.Status == 200, r.ToString());
        return r.Json.GetProperty("items").EnumerateArray().Select(x => x.Clone()).ToList();
    }

    public static List<string> Slugs(this ApiResponse r) => r.Items().Select(x => x.Str("slug")).ToList();

    /// <summary>The first validation error's type (e.g. unknown_tag), asserting a 422.</summary>
    public static string ErrorType(this ApiResponse r, int index = 0)
    {
        Assert.True(r.Status == 422, r.ToString());
        return r.Json.GetProperty("errors")[index].GetProperty("type").GetString()!;
    }

    public static string Loc(this ApiResponse r, int index = 0)
        => string.Join('.', r.Json.GetProperty("errors")[index].GetProperty("loc").EnumerateArray().Select(x => x.ToString()));

    public static string Code(this ApiResponse r) => r.Json.GetProperty("code").GetString()!;

    public static Dictionary<string, string> IfMatch(string? etag) => new() { ["If-Match"] = etag! };

    public static Task<ApiResponse> PutAsync(this ApiClient client, string path, object body)
        => client.SendRawAsync("PUT", path, JsonSerializer.Serialize(body, Snake));

    public static Task<ApiResponse> SendJsonAsync(this ApiClient client, string method, string path, object? body)
        => body is null
            ? client.SendAsync(method, path, null, null, null)
            : client.SendRawAsync(method, path, JsonSerializer.Serialize(body, Snake));

    public static async Task ExecuteAsync(this TestDatabase database, string sql)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>RFC 4180 CSV: quoted cells, doubled quotes, newlines inside quotes.</summary>
    public static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(cell.ToString()); cell.Clear(); }
            else if (c == '\r') { }
            else if (c == '\n') { row.Add(cell.ToString()); cell.Clear(); rows.Add(row); row = []; }
            else cell.Append(c);
        }
        if (cell.Length > 0 || row.Count > 0) { row.Add(cell.ToString()); rows.Add(row); }
        return rows;
    }
}
