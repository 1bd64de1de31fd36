using System.Text.RegularExpressions;

namespace Qarion.Core.Ingestion;

/// <summary>
/// Which parts of a source a connector reads. Schemas: when <see cref="SchemaInclude"/> is non-empty only
/// those (exact names); then any schema matching a <see cref="SchemaExclude"/> glob (<c>*</c>, <c>?</c>, e.g.
/// <c>tmp_*</c>) is dropped. Tables: when <see cref="TableRegex"/> is set, only tables whose name matches it.
/// </summary>
public sealed record SourceFilters(IReadOnlyList<string> SchemaInclude, IReadOnlyList<string> SchemaExclude, string? TableRegex)
{
    public static SourceFilters None { get; } = new([], [], null);

    /// <summary>User regexes run with a timeout so a pathological pattern cannot stall a sync.</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(200);

    private Regex? _table;

    public bool IncludesSchema(string schema)
        => (SchemaInclude.Count == 0 || SchemaInclude.Contains(schema, StringComparer.Ordinal))
           && !SchemaExclude.Any(glob => Glob(glob).IsMatch(schema));

    public bool IncludesTable(string table)
    {
        if (TableRegex is null) return true;
        _table ??= new Regex(TableRegex, RegexOptions.CultureInvariant, RegexTimeout);
        return _table.IsMatch(table);
    }

    internal static Regex Glob(string pattern)
        => new("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant, RegexTimeout);
}

/// <summary>A source failed in a way the user can act on (unreachable, refused, timed out). The message never holds a secret.</summary>
public sealed class SourceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The result of <c>POST …/connectors/{id}/test</c>.</summary>
public sealed record ConnectionTestResult(bool Success, string Message, long LatencyMs);
