namespace Qarion.Core.Catalog;

public static class ProductTypes
{
    /// <summary>Types every space has. Spaces add their own (<see cref="CustomProductType"/>).</summary>
    public static readonly IReadOnlyList<string> BuiltIn =
    [
        "table", "view", "materialized_view", "dataset", "file", "stream", "api", "dashboard", "report",
        "ml_model", "ai_system", "feature_set", "notebook", "pipeline", "dbt_model", "dbt_source", "other",
    ];

    public static bool IsBuiltIn(string name) => BuiltIn.Contains(name, StringComparer.Ordinal);
}
