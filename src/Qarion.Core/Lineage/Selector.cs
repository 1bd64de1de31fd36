using System.Text.RegularExpressions;
using Qarion.Core.Common;

namespace Qarion.Core.Lineage;

/// <summary>
/// dbt-style node selection: <c>name</c>, <c>+name</c> (all ancestors), <c>name+</c> (all descendants),
/// <c>+name+</c>, <c>2+name</c> (two levels up), <c>name+3</c>; several terms separated by spaces are a union.
/// </summary>
public sealed partial record Selector(string Name, int Upstream, int Downstream)
{
    /// <summary>"All" ancestors or descendants, bounded so a cyclic or huge graph cannot run away.</summary>
    public const int Unbounded = 50;

    [GeneratedRegex(@"\A(?:(\d*)\+)?([A-Za-z0-9_][A-Za-z0-9_.\-]*?)(?:\+(\d*))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Term();

    public static IReadOnlyList<Selector> ParseMany(string expression, string parameter = "select")
    {
        var terms = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (terms.Length == 0 || terms.Length > 20)
            throw RequestValidationException.For("query", parameter, "give 1 to 20 selector terms", "selector_invalid");
        return terms.Select(t => Parse(t, parameter)).ToList();
    }

    public static Selector Parse(string term, string parameter = "select")
    {
        var match = Term().Match(term);
        if (!match.Success)
            throw RequestValidationException.For("query", parameter,
                $"'{term}' is not a selector; use name, +name, name+, +name+, 2+name or name+3", "selector_invalid");
        return new Selector(match.Groups[2].Value, Depth(match.Groups[1], term, parameter), Depth(match.Groups[3], term, parameter));
    }

    private static int Depth(Group group, string term, string parameter)
    {
        if (!group.Success) return 0;
        if (group.Value.Length == 0) return Unbounded;
        if (!int.TryParse(group.Value, out var depth) || depth < 1 || depth > Unbounded)
            throw RequestValidationException.For("query", parameter, $"depth in '{term}' must be 1 to {Unbounded}", "selector_invalid");
        return depth;
    }
}
