namespace Qarion.Core.Common;

/// <summary>
/// Every Storage queue the app writes or reads. Producers and triggers both use these constants, and a
/// contract test checks that each queue trigger in the built <c>functions.metadata</c> reads one of them.
/// </summary>
public static class QueueNames
{
    public const string QualityChecks = "quality-checks";
    public const string Notifications = "notifications";
    public const string Webhooks = "webhooks";

    /// <summary>Where the Functions host moves a message after <c>maxDequeueCount</c> failures.</summary>
    public static string Poison(string queue) => queue + "-poison";

    public static IReadOnlyList<string> All { get; } = [QualityChecks, Notifications, Webhooks];
}
