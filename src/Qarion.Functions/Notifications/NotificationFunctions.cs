using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Core.Notifications;
using Qarion.Functions.Http;

namespace Qarion.Functions.Notifications;

/// <summary>The caller's in-app inbox and notification preferences (per user, not per space), and product subscriptions.</summary>
public sealed class NotificationFunctions(RequestReader reader, NotificationService notifications)
{
    private const string Tag = "Notifications";
    private const string Inbox = "v1/me/notifications";
    private const string CategoryNote = " `category`: quality, issues, catalog, ingestion, contracts, access, webhooks, other.";

    [Function("Notifications_List")]
    [ApiOperation("My notifications, newest first", Description = "Filters: `category`, `unread` (true: unread only)." + CategoryNote,
        Response = typeof(Paged<NotificationResponse>), Query = ["category", "unread", "page", "size"], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Inbox)] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await notifications.ListAsync(request.QueryString("category", 40), request.QueryBool("unread") ?? false, request.Paging(), ct));

    [Function("Notifications_UnreadCount")]
    [ApiOperation("How many of my notifications are unread, in all and per category", Response = typeof(UnreadCountResponse), Tag = Tag)]
    public async Task<IActionResult> UnreadCount(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Inbox + "/unread-count")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await notifications.UnreadCountAsync(ct));

    [Function("Notifications_MarkRead")]
    [ApiOperation("Mark one of my notifications read", Description = "Marking a read notification changes nothing; another user's is 404.",
        Response = typeof(NotificationResponse), Errors = [404], Tag = Tag)]
    public async Task<IActionResult> MarkRead(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Inbox + "/{notificationId}/read")] HttpRequest request, string notificationId, CancellationToken ct)
        => ApiResults.Ok(await notifications.MarkReadAsync(HttpRequestExtensions.RouteId(notificationId, "Notification"), ct));

    [Function("Notifications_MarkAllRead")]
    [ApiOperation("Mark all my notifications read, or those of one `category`", Description = "Returns how many were marked." + CategoryNote,
        Response = typeof(MarkedReadResponse), Query = ["category"], Tag = Tag)]
    public async Task<IActionResult> MarkAllRead(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Inbox + "/read-all")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await notifications.MarkAllReadAsync(request.QueryString("category", 40), ct));

    [Function("Notifications_GetPreferences")]
    [ApiOperation("My preferences: every category × channel (in_app, email) with my choice or the default",
        Description = "Defaults: in_app on everywhere; email on for quality, issues, contracts, access, webhooks and off for catalog, ingestion, other.",
        Response = typeof(PreferencesResponse), Tag = Tag)]
    public async Task<IActionResult> GetPreferences(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/me/notification-preferences")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await notifications.PreferencesAsync(ct));

    [Function("Notifications_PutPreferences")]
    [ApiOperation("Set some of my preferences", Description = "Body `{\"preferences\": [{\"category\", \"channel\", \"enabled\"}]}`; pairs not listed keep their value. Unknown category or channel: 422.",
        Request = typeof(UpdatePreferencesRequest), Response = typeof(PreferencesResponse), Tag = Tag)]
    public async Task<IActionResult> PutPreferences(
        [HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "v1/me/notification-preferences")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await notifications.UpdatePreferencesAsync(await reader.ReadAsync<UpdatePreferencesRequest>(request, ct), ct));

    [Function("Subscriptions_Subscribe")]
    [ApiOperation("Subscribe to a product's events (Viewer)", Description = "Subscribers are notified like its owner. Subscribing again changes nothing.",
        Response = typeof(SubscriptionResponse), Errors = [404], Tag = Tag)]
    public async Task<IActionResult> Subscribe(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/products/{product}/subscription")] HttpRequest request, string space, string product, CancellationToken ct)
        => ApiResults.Ok(await notifications.SubscribeAsync(space, product, ct));

    [Function("Subscriptions_Unsubscribe")]
    [ApiOperation("Unsubscribe from a product (Viewer)", Description = "Not subscribed: still 204.", Status = 204, Errors = [404], Tag = Tag)]
    public async Task<IActionResult> Unsubscribe(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}/products/{product}/subscription")] HttpRequest request, string space, string product, CancellationToken ct)
    {
        await notifications.UnsubscribeAsync(space, product, ct);
        return ApiResults.NoContent();
    }

    [Function("Subscriptions_Mine")]
    [ApiOperation("My product subscriptions in the spaces I belong to, newest first", Response = typeof(Paged<SubscriptionResponse>), Query = ["page", "size"], Tag = Tag)]
    public async Task<IActionResult> Mine(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/me/subscriptions")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await notifications.MySubscriptionsAsync(request.Paging(), ct));
}
