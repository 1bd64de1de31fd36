using System.Net.Mail;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion;
using Qarion.Core.Persistence;
using Qarion.Core.Quality;
using Qarion.Core.Spaces;

namespace Qarion.Core.AlertConnectors;

/// <summary>
/// Alert connectors of a space: Admins create, change, delete and test them; Editors read them (without secrets) and
/// their deliveries; Viewers do not see them (recipients are people's addresses, routing is operational detail).
/// </summary>
public sealed class AlertConnectorService(
    QarionDbContext db, SpaceAccess access, CurrentUser me, CredentialProtector protector, OutboundHttp http, AlertChannels channels)
{
    public async Task<AlertConnectorResponse> CreateAsync(string spaceSlug, CreateAlertConnectorRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var kind = AlertConnectorRules.ParseKind(request.Kind) ?? throw UnsupportedChannel(request.Kind);
        var config = NormaliseConfig(kind, request.Config);
        if (kind == AlertChannelKind.Email && request.Url is not null)
            throw RequestValidationException.For("body", "url", "an email connector has no URL: its recipients are in config", "not_applicable");
        if (kind != AlertChannelKind.Email) await RequireUrlAsync(request.Url, ct);
        var connector = new AlertConnector
        {
            Id = Guid.CreateVersion7(db.Clock.GetUtcNow()),
            SpaceId = space.SpaceId,
            Name = request.Name.Trim(),
            Kind = kind,
            Config = config,
            MinSeverity = request.MinSeverity ?? CheckSeverity.Low,
            EventTypes = Patterns(request.EventTypes ?? AlertConnectorRules.DefaultEventTypes),
            IsEnabled = request.IsEnabled ?? true,
            CreatedById = me.Id,
        };
        if (request.Url is not null) SetUrl(connector, request.Url);
        db.Add(connector);
        await db.SaveOrConflictAsync(ct, $"An alert connector named '{connector.Name}' already exists in this space.");
        return await GetAsync(space, connector.Id, ct);
    }

    public async Task<AlertConnectorResponse> GetAsync(string spaceSlug, Guid id, CancellationToken ct)
        => await GetAsync(await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct), id, ct);

    public async Task<Paged<AlertConnectorResponse>> ListAsync(string spaceSlug, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var rows = await Rows(db.Set<AlertConnector>().AsNoTracking().Where(c => c.SpaceId == space.SpaceId).OrderBy(c => c.Name).ThenBy(c => c.Id)).ToPageAsync(page, ct);
        return new Paged<AlertConnectorResponse>(rows.Items.Select(ToResponse).ToList(), rows.Total, rows.Page, rows.Size);
    }

    public async Task<AlertConnectorResponse> UpdateAsync(string spaceSlug, Guid id, UpdateAlertConnectorRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var connector = await FindAsync(space, id, ct);
        Concurrency.ExpectVersion(db, connector, ifMatch ?? request.Version);
        if (request.Config.IsSet) connector.Config = NormaliseConfig(connector.Kind, request.Config.Value);
        if (request.Url.IsSet)
        {
            if (connector.Kind == AlertChannelKind.Email)
                throw RequestValidationException.For("body", "url", "an email connector has no URL: its recipients are in config", "not_applicable");
            await RequireUrlAsync(request.Url.Value, ct);
            SetUrl(connector, request.Url.Value);
        }
        connector.Name = request.Name.Or(connector.Name).Trim();
        connector.MinSeverity = request.MinSeverity.Or(connector.MinSeverity);
        if (request.EventTypes.IsSet) connector.EventTypes = Patterns(request.EventTypes.Value);
        connector.IsEnabled = request.IsEnabled.Or(connector.IsEnabled);
        await db.SaveOrConflictAsync(ct, $"An alert connector named '{connector.Name}' already exists in this space.");
        return await GetAsync(space, connector.Id, ct);
    }

    /// <summary>Deletes the connector with its delivery records.</summary>
    public async Task DeleteAsync(string spaceSlug, Guid id, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        db.Remove(await FindAsync(space, id, ct));
        await db.SaveOrConflictAsync(ct);
    }

    /// <summary>Sends a sample message now, whether the connector is enabled or not, and says how it went (never throws for a channel failure).</summary>
    public async Task<AlertConnectorTestResult> TestAsync(string spaceSlug, Guid id, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var connector = await db.Set<AlertConnector>().AsNoTracking().SingleOrDefaultAsync(c => c.Id == id && c.SpaceId == space.SpaceId, ct)
                        ?? throw new NotFoundException("Alert connector", id.ToString());
        var spaceName = await db.Spaces.AsNoTracking().Where(s => s.Id == space.SpaceId).Select(s => s.Name).SingleAsync(ct);
        var outcome = await channels.SendAsync(connector, AlertFormatter.Sample(connector, spaceName, db.Clock.GetUtcNow()), ct);
        return new AlertConnectorTestResult(outcome.Success, outcome.StatusCode, outcome.Error, outcome.LatencyMs);
    }

    /// <summary>The connector's deliveries, newest first (Editor).</summary>
    public async Task<Paged<AlertDeliveryResponse>> DeliveriesAsync(string spaceSlug, Guid id, AlertDeliveryStatus? status, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        if (!await db.Set<AlertConnector>().AnyAsync(c => c.Id == id && c.SpaceId == space.SpaceId, ct))
            throw new NotFoundException("Alert connector", id.ToString());
        var deliveries = db.Set<AlertDelivery>().AsNoTracking().Where(d => d.ConnectorId == id);
        if (status is not null) deliveries = deliveries.Where(d => d.Status == status);
        return await deliveries.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id)
            .Select(d => new AlertDeliveryResponse(d.Id, d.ConnectorId, d.EventId, d.EventType, d.Status, d.Attempts, d.StatusCode, d.Error,
                d.LatencyMs, d.CreatedAt, d.UpdatedAt, d.SentAt))
            .ToPageAsync(page, ct);
    }

    private static RequestValidationException UnsupportedChannel(string? kind)
        => RequestValidationException.For("body", "kind", $"unsupported channel '{kind}': must be one of {string.Join(", ", AlertConnectorRules.Kinds)}", "unsupported_channel");

    /// <summary>
    /// A Slack / Teams webhook URL: an absolute http(s) URL that <see cref="OutboundHttp.CheckAsync"/> accepts (422 with
    /// its code: invalid_url, unresolvable_host, private_address), and https unless private networks are allowed (local runs).
    /// </summary>
    private async Task RequireUrlAsync(string? url, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(url))
            throw RequestValidationException.For("body", "url", "a Slack or Teams connector needs its incoming-webhook URL", "missing");
        if (await http.CheckAsync(url, ct) is { } code)
            throw RequestValidationException.For("body", "url", code switch
            {
                "private_address" => "the URL resolves to a private, loopback or link-local address, which may not be called",
                "unresolvable_host" => "the URL's host name does not resolve",
                _ => "must be an absolute http(s) URL without credentials, at most 2048 characters",
            }, code);
        if (!http.AllowPrivateNetworks && OutboundHttp.ParseUrl(url)!.Scheme != Uri.UriSchemeHttps)
            throw RequestValidationException.For("body", "url", "must be an https URL", "https_required");
    }

    private void SetUrl(AlertConnector connector, string url)
    {
        connector.EncryptedCredentials = protector.Protect(connector.Id, url);
        connector.SecretHint = AlertChannels.Hint(url);
    }

    /// <summary>Validates a kind's config and returns it as compact JSON: e-mail needs 1–50 distinct recipients; Slack and Teams take none.</summary>
    private static string NormaliseConfig(AlertChannelKind kind, JsonElement? config)
    {
        var value = config is { ValueKind: not JsonValueKind.Null } c ? c : (JsonElement?)null;
        if (value is { } v)
        {
            if (v.ValueKind != JsonValueKind.Object)
                throw RequestValidationException.For("body", "config", "must be a JSON object", "model_attributes_type");
            if (Encoding.UTF8.GetByteCount(v.GetRawText()) > AlertConnectorRules.ConfigMaxBytes)
                throw RequestValidationException.For("body", "config", $"must be at most {AlertConnectorRules.ConfigMaxBytes} bytes of JSON", "too_large");
            foreach (var property in v.EnumerateObject())
                if (kind != AlertChannelKind.Email || property.Name != "recipients")
                    throw new RequestValidationException(new FieldError(["body", "config", property.Name],
                        kind == AlertChannelKind.Email ? "unknown field: an email connector's config has only recipients" : $"a {AlertConnectorRules.KindName(kind)} connector takes no config: its only setting is url",
                        "extra_forbidden"));
        }
        if (kind != AlertChannelKind.Email) return "{}";
        if (value is not { } cfg || !cfg.TryGetProperty("recipients", out var list))
            throw new RequestValidationException(new FieldError(["body", "config", "recipients"], "an email connector needs its recipients", "missing"));
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() is 0 or > AlertConnectorRules.RecipientsMax)
            throw new RequestValidationException(new FieldError(["body", "config", "recipients"], $"must be a list of 1 to {AlertConnectorRules.RecipientsMax} e-mail addresses", "value_error"));
        var recipients = new List<string>();
        var errors = new List<FieldError>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var text = item.ValueKind == JsonValueKind.String ? item.GetString()!.Trim() : null;
            if (text is null || text.Length > 254 || !MailAddress.TryCreate(text, out var address) || address.Address != text || address.Host.Length == 0)
                errors.Add(new FieldError(["body", "config", "recipients", index], "must be an e-mail address", "value_error.email"));
            else if (!recipients.Contains(text, StringComparer.OrdinalIgnoreCase)) recipients.Add(text);
            index++;
        }
        if (errors.Count > 0) throw new RequestValidationException(errors);
        return JsonSerializer.Serialize(new { recipients }, JsonNames.SerializerOptions);
    }

    private static List<string> Patterns(IReadOnlyList<string> patterns) => patterns.Select(p => p.Trim()).Distinct(StringComparer.Ordinal).ToList();

    private async Task<AlertConnector> FindAsync(SpaceContext space, Guid id, CancellationToken ct)
        => await db.Set<AlertConnector>().SingleOrDefaultAsync(c => c.Id == id && c.SpaceId == space.SpaceId, ct)
           ?? throw new NotFoundException("Alert connector", id.ToString());

    private async Task<AlertConnectorResponse> GetAsync(SpaceContext space, Guid id, CancellationToken ct)
        => ToResponse(await Rows(db.Set<AlertConnector>().AsNoTracking().Where(c => c.Id == id && c.SpaceId == space.SpaceId)).SingleOrDefaultAsync(ct)
                      ?? throw new NotFoundException("Alert connector", id.ToString()));

    private sealed record Row(AlertConnector C, bool HasSecret, AlertDeliverySummary? LastDelivery);

    private IQueryable<Row> Rows(IQueryable<AlertConnector> connectors) => connectors.Select(c => new Row(
        new AlertConnector
        {
            Id = c.Id, SpaceId = c.SpaceId, Name = c.Name, Kind = c.Kind, Config = c.Config, SecretHint = c.SecretHint, MinSeverity = c.MinSeverity,
            EventTypes = c.EventTypes, IsEnabled = c.IsEnabled, CreatedAt = c.CreatedAt, UpdatedAt = c.UpdatedAt, Version = c.Version,
        },
        c.EncryptedCredentials != null,
        db.Set<AlertDelivery>().Where(d => d.ConnectorId == c.Id).OrderByDescending(d => d.UpdatedAt).ThenByDescending(d => d.Id)
            .Select(d => new AlertDeliverySummary(d.EventId, d.EventType, d.Status, d.StatusCode, d.UpdatedAt)).FirstOrDefault()));

    private static AlertConnectorResponse ToResponse(Row r)
    {
        using var config = JsonDocument.Parse(r.C.Config);
        return new AlertConnectorResponse(r.C.Id, r.C.SpaceId, r.C.Name, AlertConnectorRules.KindName(r.C.Kind), config.RootElement.Clone(),
            r.HasSecret, r.C.SecretHint, r.C.MinSeverity, r.C.EventTypes, r.C.IsEnabled, r.LastDelivery, r.C.CreatedAt, r.C.UpdatedAt, r.C.Version);
    }
}
