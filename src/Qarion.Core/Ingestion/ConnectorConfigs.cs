using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Qarion.Core.Common;
using Qarion.Core.Ingestion.Postgres;

namespace Qarion.Core.Ingestion;

/// <summary>
/// Per-platform validation of a connector's config and credentials: every bad or unknown key is a 422 naming
/// it, and what is stored is the normalised object with defaults filled in.
/// </summary>
public static class ConnectorConfigs
{
    private static readonly string[] SslModes = ["disable", "prefer", "require", "verify-ca", "verify-full"];
    private static readonly string[] DbtResourceTypes = ["model", "seed", "snapshot", "source"];

    /// <summary>The normalised config JSON, or a 422 listing every problem under <c>body.config</c>.</summary>
    public static string Normalise(string platform, JsonElement? config)
    {
        var reader = new ObjectReader(config, ["body", "config"]);
        JsonObject result = platform switch
        {
            ConnectorPlatforms.PostgreSql => new JsonObject
            {
                ["host"] = reader.String("host", required: true, max: 255),
                ["port"] = reader.Int("port", 5432, 1, 65535),
                ["database"] = reader.String("database", required: true, max: 63),
                ["ssl_mode"] = reader.Choice("ssl_mode", "prefer", SslModes),
                ["connect_timeout_seconds"] = reader.Int("connect_timeout_seconds", 10, 1, 60),
                ["statement_timeout_seconds"] = reader.Int("statement_timeout_seconds", 60, 1, 600),
            },
            ConnectorPlatforms.DbtManifest => new JsonObject
            {
                ["resource_types"] = reader.Subset("resource_types", DbtResourceTypes),
            },
            _ => throw RequestValidationException.For("body", "platform", $"unknown platform; one of {string.Join(", ", ConnectorPlatforms.All)}", "enum"),
        };
        reader.ThrowIfInvalid();
        return result.ToJsonString();
    }

    /// <summary>The normalised credentials JSON (secret), or a 422 under <c>body</c>.</summary>
    public static string NormaliseCredentials(string platform, JsonElement credentials)
    {
        var reader = new ObjectReader(credentials, ["body"]);
        JsonObject result = platform switch
        {
            ConnectorPlatforms.PostgreSql => new JsonObject
            {
                ["username"] = reader.String("username", required: true, max: 63),
                ["password"] = reader.String("password", required: false, max: 1000),
            },
            _ => throw RequestValidationException.For("body", "credentials", $"the {platform} platform takes no credentials", "not_applicable"),
        };
        reader.ThrowIfInvalid();
        return result.ToJsonString();
    }

    public static PostgresSourceConfig Postgres(string configJson)
    {
        var c = JsonNode.Parse(configJson)!.AsObject();
        return new PostgresSourceConfig(
            (string)c["host"]!, (int)c["port"]!, (string)c["database"]!, (string)c["ssl_mode"]!,
            (int)c["connect_timeout_seconds"]!, (int)c["statement_timeout_seconds"]!);
    }

    public static PostgresCredentials PostgresCredentials(string? credentialsJson)
    {
        if (credentialsJson is null) throw new SourceException("The connector has no credentials; set them with PUT …/credentials.");
        var c = JsonNode.Parse(credentialsJson)!.AsObject();
        return new PostgresCredentials((string)c["username"]!, (string?)c["password"]);
    }

    public static IReadOnlySet<string>? DbtResourceTypesOf(string configJson)
        => JsonNode.Parse(configJson)!["resource_types"] is JsonArray types && types.Count > 0
            ? types.Select(t => (string)t!).ToHashSet(StringComparer.Ordinal)
            : null;

    /// <summary>Validates filters: globs and names are plain text, the table regex must compile.</summary>
    public static IEnumerable<FieldError> FilterErrors(FiltersInput? filters)
    {
        if (filters is null) yield break;
        foreach (var (list, name) in new[] { (filters.SchemaInclude, "schema_include"), (filters.SchemaExclude, "schema_exclude") })
        {
            if (list is null) continue;
            if (list.Count > 200) yield return new FieldError(["body", "filters", name], "at most 200 entries", "too_long");
            for (var i = 0; i < list.Count; i++)
                if (string.IsNullOrWhiteSpace(list[i]) || list[i].Length > 200 || Text.HasForbiddenControlCharacter(list[i]))
                    yield return new FieldError(["body", "filters", name, i], "must be 1-200 printable characters", "value_error");
        }
        if (filters.TableRegex is { } regex)
        {
            string? problem = null;
            if (regex.Length is 0 or > 500) problem = "must be 1-500 characters";
            else
            {
                try { _ = new Regex(regex, RegexOptions.CultureInvariant, SourceFilters.RegexTimeout); }
                catch (ArgumentException ex) { problem = $"not a valid regular expression: {ex.Message}"; }
            }
            if (problem is not null) yield return new FieldError(["body", "filters", "table_regex"], problem, "regex_invalid");
        }
    }

    /// <summary>Reads known keys of a JSON object, collecting errors; whatever key is left over is unknown.</summary>
    private sealed class ObjectReader
    {
        private readonly Dictionary<string, JsonElement> _values = new(StringComparer.Ordinal);
        private readonly List<FieldError> _errors = [];
        private readonly object[] _loc;

        public ObjectReader(JsonElement? element, object[] loc)
        {
            _loc = loc;
            if (element is not { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e) return;
            if (e.ValueKind != JsonValueKind.Object)
            {
                _errors.Add(new FieldError(loc, "must be an object", "object_type"));
                return;
            }
            foreach (var p in e.EnumerateObject()) _values[p.Name] = p.Value;
        }

        private object[] At(string key) => [.. _loc, key];

        private JsonElement? Take(string key)
        {
            if (!_values.Remove(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v;
        }

        public string? String(string key, bool required, int max)
        {
            var v = Take(key);
            if (v is null)
            {
                if (required) _errors.Add(new FieldError(At(key), "required", "missing"));
                return null;
            }
            if (v.Value.ValueKind != JsonValueKind.String) { _errors.Add(new FieldError(At(key), "must be a string", "string_type")); return null; }
            var s = v.Value.GetString()!;
            if (required && string.IsNullOrWhiteSpace(s)) _errors.Add(new FieldError(At(key), "must not be blank", "string_too_short"));
            else if (s.Length > max) _errors.Add(new FieldError(At(key), $"must be at most {max} characters", "string_too_long"));
            else if (Text.HasForbiddenControlCharacter(s)) _errors.Add(new FieldError(At(key), "must not contain control characters", "value_error"));
            return s;
        }

        public int Int(string key, int fallback, int min, int max)
        {
            var v = Take(key);
            if (v is null) return fallback;
            if (v.Value.ValueKind != JsonValueKind.Number || !v.Value.TryGetInt32(out var n)) { _errors.Add(new FieldError(At(key), "must be an integer", "int_type")); return fallback; }
            if (n < min || n > max) _errors.Add(new FieldError(At(key), $"must be between {min} and {max}", "range"));
            return n;
        }

        public string Choice(string key, string fallback, string[] allowed)
        {
            var v = Take(key);
            if (v is null) return fallback;
            if (v.Value.ValueKind == JsonValueKind.String && allowed.Contains(v.Value.GetString(), StringComparer.Ordinal)) return v.Value.GetString()!;
            _errors.Add(new FieldError(At(key), $"must be one of {string.Join(", ", allowed)}", "enum"));
            return fallback;
        }

        public JsonArray Subset(string key, string[] allowed)
        {
            var result = new JsonArray();
            var v = Take(key);
            if (v is null) return result;
            if (v.Value.ValueKind != JsonValueKind.Array) { _errors.Add(new FieldError(At(key), "must be an array", "list_type")); return result; }
            var i = 0;
            foreach (var item in v.Value.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String && allowed.Contains(item.GetString(), StringComparer.Ordinal))
                {
                    if (!result.Any(r => (string)r! == item.GetString())) result.Add(item.GetString());
                }
                else _errors.Add(new FieldError([.. At(key), i], $"must be one of {string.Join(", ", allowed)}", "enum"));
                i++;
            }
            return result;
        }

        public void ThrowIfInvalid()
        {
            foreach (var unknown in _values.Keys.Order(StringComparer.Ordinal))
                _errors.Add(new FieldError(At(unknown), "unknown key", "unknown_key"));
            if (_errors.Count > 0) throw new RequestValidationException(_errors);
        }
    }
}
