using System.Text.Json;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.AccessRequests;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.AccessRequests;

/// <summary>
/// The app container plus a Durable in-process engine running the real access-request orchestration and
/// activities. Reminder and deadline are long here (a test decides well before them); see
/// <see cref="AccessTimingFixture"/> for seconds-long ones.
/// </summary>
public class AccessFixture : AppFixture
{
    private DurableTaskTestHost? _durable;

    public DurableTaskClient Durable => _durable!.Client;

    protected virtual TimeSpan ReminderAfter => TimeSpan.FromHours(1);
    protected virtual TimeSpan ExpireAfter => TimeSpan.FromHours(2);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Qarion:Access:ReminderAfter"] = ReminderAfter.ToString("c"),
        ["Qarion:Access:ExpireAfter"] = ExpireAfter.ToString("c"),
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _durable = await Ingestion.IngestionFixture.StartDurableAsync(registry => AccessOrchestration.Register(registry, Services));
        Invoker.Durable = _durable.Client;
    }

    public override async Task DisposeAsync()
    {
        if (_durable is not null) await _durable.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>The bootstrap superadmin, an admin member of every space the tests create.</summary>
    public async Task<Guid> RootIdAsync()
    {
        await AdminAsync();
        return await WithDbAsync(db => db.Users.Where(u => u.Email == "root@example.com").Select(u => u.Id).SingleAsync());
    }

    /// <summary>The outbox events about one request, oldest first: (type, payload).</summary>
    public async Task<List<(string Type, JsonElement Payload)>> EventsAsync(Guid requestId)
    {
        var rows = await WithDbAsync(db => db.OutboxEvents.AsNoTracking()
            .Where(e => EF.Functions.JsonContains(e.Payload, $"{{\"request_id\": \"{requestId}\"}}"))
            .OrderBy(e => e.Id).Select(e => new { e.EventType, e.Payload }).ToListAsync());
        return rows.Select(r => (r.EventType, JsonDocument.Parse(r.Payload).RootElement.Clone())).ToList();
    }

    /// <summary>Polls until the request has at least <paramref name="count"/> outbox events (the orchestration runs in the background).</summary>
    public async Task<List<(string Type, JsonElement Payload)>> WaitForEventsAsync(Guid requestId, int count, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var events = await EventsAsync(requestId);
            if (events.Count >= count) return events;
            if (DateTime.UtcNow > until) throw new TimeoutException($"{events.Count} of {count} events: {string.Join(", ", events.Select(e => e.Type))}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits for the request's orchestration to finish and returns its output.</summary>
    public async Task<string> WaitForOrchestrationAsync(Guid requestId, int seconds = 60)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var done = await Durable.WaitForInstanceCompletionAsync(AccessOrchestration.InstanceId(requestId), getInputsAndOutputs: true, timeout.Token);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{done.RuntimeStatus}: {done.FailureDetails?.ErrorMessage}");
        return done.ReadOutputAs<string>()!;
    }

    /// <summary>Submits a request (asserting 201) and returns its JSON.</summary>
    public static async Task<JsonElement> SubmitAsync(ApiClient client, string space, object body)
    {
        var response = await client.PostAsync($"/api/v1/spaces/{space}/access-requests", body);
        Assert.True(response.Status == 201, response.ToString());
        return response.Json.Clone();
    }

    public static List<Guid> Recipients(JsonElement payload)
        => payload.GetProperty("recipient_ids").EnumerateArray().Select(x => x.GetGuid()).ToList();
}

/// <summary>Reminder after 2 s, deadline after 5 s: the timer paths run for real.</summary>
public sealed class AccessTimingFixture : AccessFixture
{
    protected override TimeSpan ReminderAfter => TimeSpan.FromSeconds(2);
    protected override TimeSpan ExpireAfter => TimeSpan.FromSeconds(5);
}

/// <summary>A space with an admin, a product's owner and steward, a requester and a bystander.</summary>
public sealed record AccessCast(string Space, TestUser Admin, TestUser Owner, TestUser Steward, TestUser Requester, TestUser Bystander, Guid RootId, Guid ProductId)
{
    public string Requests => $"/api/v1/spaces/{Space}/access-requests";
    public string Grants => $"/api/v1/spaces/{Space}/access-grants";

    /// <summary>Every approver of the product's requests, sorted: root and Ada (admins), the owner and the steward.</summary>
    public List<Guid> ProductApprovers => new[] { RootId, Admin.Id, Owner.Id, Steward.Id }.Order().ToList();

    public static async Task<AccessCast> CreateAsync(AccessFixture app)
    {
        var admin = await app.CreateUserAsync("Ada");
        var owner = await app.CreateUserAsync("Olga");
        var steward = await app.CreateUserAsync("Stan");
        var requester = await app.CreateUserAsync("Rita");
        var bystander = await app.CreateUserAsync("Nate");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (owner, "editor"), (steward, "editor"), (requester, "viewer"), (bystander, "viewer"));
        var product = await admin.Client.CreateProductAsync(space, "orders", new { name = "Orders", owner_id = owner.Id, steward_id = steward.Id });
        return new AccessCast(space, admin, owner, steward, requester, bystander, await app.RootIdAsync(), product.Id());
    }
}
