namespace Qarion.Core.Notifications;

/// <summary>The category of an event type (from its prefix) and the channels a user can choose per category.</summary>
public static class NotificationCategories
{
    public const string Quality = "quality";
    public const string Issues = "issues";
    public const string Catalog = "catalog";
    public const string Ingestion = "ingestion";
    public const string Contracts = "contracts";
    public const string Access = "access";
    public const string Webhooks = "webhooks";
    public const string Other = "other";

    public static IReadOnlyList<string> All { get; } = [Quality, Issues, Catalog, Ingestion, Contracts, Access, Webhooks, Other];

    public const string InApp = "in_app";
    public const string Email = "email";
    public static IReadOnlyList<string> Channels { get; } = [InApp, Email];

    public static string Of(string eventType) => (eventType.Split('.', 2)[0]) switch
    {
        "quality" => Quality,
        "issue" => Issues,
        "product" or "schema" => Catalog,
        "sync" => Ingestion,
        "contract" => Contracts,
        "access" => Access,
        "webhook" => Webhooks,
        _ => Other,
    };

    /// <summary>
    /// Defaults when the user has not chosen: in-app on for every category; e-mail on for what asks for action
    /// (quality, issues, contracts, access, webhooks) and off for the chatty ones (catalog, ingestion, other).
    /// </summary>
    public static bool DefaultEnabled(string category, string channel)
        => channel == InApp || category is Quality or Issues or Contracts or Access or Webhooks;
}
