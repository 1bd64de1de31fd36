using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qarion.Core.Common;
using Qarion.Core.Persistence;

namespace Qarion.Core.Identity;

/// <summary>
/// First-install path: creates the first superadmin and its API key, once. Guarded by a secret from
/// configuration and refused as soon as any superadmin exists, so a leaked token is useless afterwards.
/// </summary>
public sealed class BootstrapService(QarionDbContext db, IOptions<AuthOptions> options, ILogger<BootstrapService> logger)
{
    // Any constant works: it serialises concurrent bootstrap calls inside PostgreSQL.
    private const long AdvisoryLockKey = 0x51617269_6F6E0001;

    public async Task<BootstrapResponse> BootstrapAsync(BootstrapRequest request, CancellationToken ct)
    {
        var expected = options.Value.BootstrapToken;
        if (string.IsNullOrEmpty(expected))
            throw new NotFoundException("Bootstrap endpoint", "disabled: Qarion:Auth:BootstrapToken is not configured");
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(request.Token), Encoding.UTF8.GetBytes(expected)))
            throw new ForbiddenException("The bootstrap token is not valid.");

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", ct);
        if (await db.Users.AnyAsync(u => u.IsSuperadmin, ct))
            throw new ConflictException("Qarion is already bootstrapped: a superadmin exists.", "already_bootstrapped");

        var email = UserService.NormalizeEmail(request.Email);
        var user = await db.Users.SingleOrDefaultAsync(u => u.Email == email, ct);
        if (user is null)
        {
            user = new User { Email = email, DisplayName = request.DisplayName.Trim() };
            db.Users.Add(user);
        }
        user.IsSuperadmin = true;
        user.IsActive = true;
        await db.SaveChangesAsync(ct);
        var key = await ApiKeyService.IssueAsync(db, user.Id, "bootstrap", null, ct);
        await tx.CommitAsync(ct);

        logger.LogWarning("Bootstrapped the first superadmin {UserId} ({Email})", user.Id, user.Email);
        var response = await db.Users.AsNoTracking().Where(u => u.Id == user.Id).Select(UserService.ToResponse).SingleAsync(ct);
        return new BootstrapResponse(response, key);
    }
}
