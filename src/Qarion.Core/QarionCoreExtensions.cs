using Azure.Storage.Queues;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Qarion.Core.Common;
using Qarion.Core.Health;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core;

public static class QarionCoreExtensions
{
    public const string ConnectionStringName = "Qarion";
    public const string StorageSetting = "AzureWebJobsStorage";

    /// <summary>
    /// Everything Core needs, registered once for the app and the tests alike. Services are scoped:
    /// one instance per invocation, holding that invocation's DbContext and <see cref="CurrentUser"/>.
    /// </summary>
    public static IServiceCollection AddQarionCore(this IServiceCollection services, IConfiguration configuration)
    {
        // Settings are read from the container's final configuration when first needed, not here: a later
        // configuration source (environment, Key Vault, a test's overrides) must win over an earlier one.
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => PersistenceExtensions.CreateDataSource(
            sp.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException($"Connection string '{ConnectionStringName}' is missing (ConnectionStrings__{ConnectionStringName}).")));
        services.AddScoped<Audit.AuditInterceptor>();
        services.AddScoped<Outbox.OutboxRelayInterceptor>();
        services.AddDbContext<QarionDbContext>((sp, options) => options
            .UseQarionPostgres(sp.GetRequiredService<Npgsql.NpgsqlDataSource>())
            .AddInterceptors(sp.GetRequiredService<Audit.AuditInterceptor>(), sp.GetRequiredService<Outbox.OutboxRelayInterceptor>()));

        services.AddSingleton(sp => new StorageQueues(CreateQueueServiceClient(sp.GetRequiredService<IConfiguration>())));

        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section));
        services.AddOptions<OutboundOptions>().Bind(configuration.GetSection(OutboundOptions.Section));
        services.AddSingleton<OutboundHttp>();
        services.AddSingleton<OidcTokenValidator>();

        services.AddScoped<CurrentUser>();
        services.AddScoped<Authenticator>();
        services.AddScoped<BootstrapService>();
        services.AddScoped<UserService>();
        services.AddScoped<ApiKeyService>();
        services.AddScoped<SpaceAccess>();
        services.AddScoped<SpaceService>();
        services.AddScoped<MemberService>();
        services.AddScoped<HealthService>();
        services.AddScoped<Catalog.CatalogSupport>();
        services.AddScoped<Catalog.ProductService>();
        services.AddScoped<Catalog.FieldService>();
        services.AddScoped<Catalog.TagService>();
        services.AddScoped<Catalog.ProductTypeService>();
        services.AddScoped<Lineage.LineageService>();
        services.AddScoped<Search.SearchService>();
        services.AddScoped<Audit.AuditService>();
        services.AddScoped<Issues.IssueService>();
        services.AddScoped<Quality.AlertService>();

        services.AddSingleton<Quality.CheckRunner>();
        services.AddSingleton<Quality.CheckMessages>();
        services.AddScoped<Quality.ExecutionRecorder>();
        services.AddScoped<Quality.CheckExecutor>();
        services.AddScoped<Quality.ExecutionService>();

        services.AddOptions<Ingestion.IngestionOptions>().Bind(configuration.GetSection(Ingestion.IngestionOptions.Section));
        services.AddSingleton<Ingestion.CredentialProtector>();
        services.AddSingleton<Ingestion.Postgres.PostgresScraper>();
        services.AddScoped<Ingestion.CatalogMerger>();
        services.AddScoped<Ingestion.SyncRunner>();
        services.AddScoped<Ingestion.SyncService>();
        services.AddScoped<Ingestion.ConnectorService>();
        services.AddScoped<Ingestion.OpenLineage.OpenLineageService>();
        services.AddScoped<Contracts.ContractSlaService>();
        services.AddScoped<Contracts.ContractService>();
        services.AddScoped<Quality.CheckService>();
        services.AddScoped<Quality.DbtTestImportService>();
        services.AddOptions<AccessRequests.AccessOptions>().Bind(configuration.GetSection(AccessRequests.AccessOptions.Section));
        services.AddScoped<AccessRequests.AccessRequestService>();
        services.AddScoped<AccessRequests.AccessRequestRunner>();

        services.AddOptions<Notifications.SmtpOptions>().Bind(configuration.GetSection(Notifications.SmtpOptions.Section));
        services.AddSingleton<Notifications.IEmailSender, Notifications.SmtpEmailSender>();
        services.AddSingleton<AlertConnectors.AlertChannels>();
        services.AddScoped<AlertConnectors.AlertFormatter>();
        services.AddScoped<AlertConnectors.AlertConnectorService>();
        services.AddScoped<AlertConnectors.AlertDispatcher>();
        services.AddScoped<Outbox.IOutboxEventConsumer>(sp => sp.GetRequiredService<AlertConnectors.AlertDispatcher>());

        services.AddOptions<Webhooks.WebhookOptions>().Bind(configuration.GetSection(Webhooks.WebhookOptions.Section));
        services.AddSingleton<Webhooks.WebhookMessages>();
        services.AddScoped<Webhooks.WebhookDeliverer>();
        services.AddScoped<Webhooks.WebhookService>();

        services.AddSingleton<Outbox.OutboxPublisher>();
        services.AddScoped<Notifications.RecipientResolver>();
        services.AddScoped<Notifications.NotificationAudience>();
        services.AddScoped<Notifications.NotificationDispatcher>();
        services.AddScoped<Notifications.NotificationService>();
        services.AddScoped<Notifications.NotificationRetention>();
        services.AddScoped<Outbox.DeliveryLogRetention>();
        services.AddScoped<Outbox.IOutboxEventConsumer, Notifications.InboxConsumer>();
        services.AddScoped<Outbox.IOutboxEventConsumer, Notifications.UserEmailConsumer>();

        services.AddValidatorsFromAssembly(typeof(QarionCoreExtensions).Assembly, ServiceLifetime.Singleton, includeInternalTypes: true);
        return services;
    }

    /// <summary>
    /// The same storage account the Functions host uses: a connection string locally (Azurite), or in Azure
    /// an identity-based connection (<c>AzureWebJobsStorage__accountName</c> / <c>__queueServiceUri</c>
    /// with <c>__clientId</c> of the user-assigned identity), since the account disallows shared keys.
    /// </summary>
    /// <summary>The storage account's queue service, or null when no storage is configured.</summary>
    public sealed record StorageQueues(QueueServiceClient? Client)
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Created = new(StringComparer.Ordinal);

        /// <summary>The named queue, created on its first use in this process.</summary>
        public async Task<QueueClient> QueueAsync(string name, CancellationToken ct)
        {
            var client = (Client ?? throw new InvalidOperationException("No Storage queue is configured (AzureWebJobsStorage)."))
                .GetQueueClient(name);
            if (!Created.ContainsKey(client.Uri.ToString()))
            {
                await client.CreateIfNotExistsAsync(cancellationToken: ct);
                Created[client.Uri.ToString()] = true;
            }
            return client;
        }
    }

    internal static QueueServiceClient? CreateQueueServiceClient(IConfiguration configuration)
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        var connectionString = configuration[StorageSetting];
        if (!string.IsNullOrWhiteSpace(connectionString)) return new QueueServiceClient(connectionString, options);

        var section = configuration.GetSection(StorageSetting);
        var uri = section["queueServiceUri"]
                  ?? (section["accountName"] is { Length: > 0 } account ? $"https://{account}.queue.core.windows.net" : null);
        if (uri is null) return null;
        var credential = new Azure.Identity.DefaultAzureCredential(new Azure.Identity.DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = section["clientId"],
        });
        return new QueueServiceClient(new Uri(uri), credential, options);
    }
}
