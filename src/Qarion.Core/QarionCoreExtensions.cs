using Azure.Storage.Queues;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        var connectionString = configuration.GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException($"Connection string '{ConnectionStringName}' is missing (ConnectionStrings__{ConnectionStringName}).");

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => PersistenceExtensions.CreateDataSource(connectionString));
        services.AddDbContext<QarionDbContext>((sp, options) =>
            options.UseQarionPostgres(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()));

        var storage = configuration[StorageSetting];
        if (!string.IsNullOrWhiteSpace(storage))
            services.AddSingleton(_ => new QueueServiceClient(storage, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }));

        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section));
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

        services.AddValidatorsFromAssembly(typeof(QarionCoreExtensions).Assembly, ServiceLifetime.Singleton, includeInternalTypes: true);
        return services;
    }
}
