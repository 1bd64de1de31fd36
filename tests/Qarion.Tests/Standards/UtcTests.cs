using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Persistence;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Standards;

/// <summary>Standard 3: every timestamp is stored as timestamptz, taken from the injected clock, and emitted as UTC.</summary>
public sealed partial class UtcTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Every_date_time_property_of_every_entity_is_timestamptz()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
        var checkedProperties = 0;
        foreach (var entity in db.Model.GetEntityTypes())
        foreach (var property in entity.GetProperties())
        {
            var clr = Nullable.GetUnderlyingType(property.ClrType) ?? property.ClrType;
            Assert.False(clr == typeof(DateTime), $"{entity.ClrType.Name}.{property.Name} is DateTime: use DateTimeOffset (UTC).");
            if (clr != typeof(DateTimeOffset)) continue;
            Assert.Equal("timestamp with time zone", property.GetColumnType());
            checkedProperties++;
        }
        Assert.True(checkedProperties >= 8, $"only {checkedProperties} timestamp properties found");

        // And the database agrees: no timestamp-without-time-zone or date/time columns exist.
        var naive = await app.Database.ScalarAsync<long>("""
            SELECT count(*) FROM information_schema.columns
            WHERE table_schema = 'public' AND data_type IN ('timestamp without time zone', 'time without time zone')
            """);
        Assert.Equal(0L, naive);
    }

    [Fact]
    public async Task Timestamps_come_from_the_injected_clock_and_are_emitted_with_Z()
    {
        var admin = await app.AdminAsync();
        var instant = new DateTimeOffset(2026, 7, 4, 23, 15, 42, 123, TimeSpan.Zero);
        app.Clock.SetUtcNow(instant);
        var created = await admin.PostAsync("/api/v1/spaces", new { slug = "utc-space", name = "UTC" });
        Assert.Equal(201, created.Status);
        Assert.Equal("2026-07-04T23:15:42.123000Z", created.Json.GetProperty("created_at").GetString());
        Assert.Equal("2026-07-04T23:15:42.123000Z", created.Json.GetProperty("updated_at").GetString());

        // Stored as that instant whatever the session's time zone: read it back under another zone.
        var epoch = await app.Database.ScalarAsync<decimal>(
            "SET TIME ZONE 'Asia/Kolkata'; SELECT extract(epoch FROM created_at) FROM spaces WHERE slug = 'utc-space'");
        Assert.Equal(instant.ToUnixTimeMilliseconds() / 1000m, epoch);

        // UUIDv7 ids carry the same clock.
        var id = created.Json.GetProperty("id").GetGuid();
        var unixMs = Convert.ToInt64(id.ToString("N")[..12], 16);
        Assert.Equal(instant.ToUnixTimeMilliseconds(), unixMs);
    }

    [Fact]
    public async Task An_offset_timestamp_sent_in_is_stored_and_returned_as_UTC()
    {
        var admin = await app.AdminAsync();
        var created = await admin.PostAsync("/api/v1/me/api-keys", new { name = "offset", expires_at = "2030-01-01T05:30:00+05:30" });
        Assert.Equal(201, created.Status);
        Assert.Equal("2030-01-01T00:00:00.000000Z", created.Json.GetProperty("expires_at").GetString());
        var keyId = created.Json.GetProperty("id").GetGuid();
        var stored = await app.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == keyId).Select(k => k.ExpiresAt).SingleAsync());
        Assert.Equal(TimeSpan.Zero, stored!.Value.Offset);
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), stored);
    }

    [Fact]
    public void Source_code_never_reads_the_system_clock_directly()
    {
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(TestEnvironment.RepoRoot, "src"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) continue;
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
                if (ClockRead().IsMatch(lines[i])) offenders.Add($"{Path.GetRelativePath(TestEnvironment.RepoRoot, file)}:{i + 1}: {lines[i].Trim()}");
        }
        Assert.True(offenders.Count == 0, "Use the injected TimeProvider instead:\n" + string.Join('\n', offenders));
    }

    [GeneratedRegex(@"\bDateTime(Offset)?\.(Now|UtcNow|Today)\b|\bTimeProvider\.System\.GetUtcNow\(")]
    private static partial Regex ClockRead();
}
