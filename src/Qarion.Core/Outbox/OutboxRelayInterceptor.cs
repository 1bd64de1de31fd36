using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Qarion.Core.Outbox;

/// <summary>
/// The relay's primary path: remembers the outbox rows each SaveChanges adds and publishes them once they are
/// committed — right after SaveChanges when it ran in its own (implicit) transaction, or when the explicit transaction
/// it ran in commits (ExecutionRecorder, sync merge). Rows of a transaction that rolls back, or is disposed without a
/// commit, are never published. A failed send is logged and left to the sweeper: it never fails the user's request.
/// Scoped, like the context it watches.
/// </summary>
public sealed class OutboxRelayInterceptor(OutboxPublisher publisher, ILogger<OutboxRelayInterceptor> log)
    : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    /// <summary>Rows added but not yet committed, by the explicit transaction they were saved in (Guid.Empty: none).</summary>
    private readonly Dictionary<Guid, Dictionary<Guid, OutboxEvent>> _pending = [];

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData.Context);
        return result;
    }

    public async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context?.Database.CurrentTransaction is null) await FlushAsync(Guid.Empty);
        return result;
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData)
    {
        if (eventData.Context?.Database.CurrentTransaction is null) _pending.Remove(Guid.Empty);
    }

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveChangesFailed(eventData);
        return Task.CompletedTask;
    }

    public async Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        => await FlushAsync(eventData.TransactionId);

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => _pending.Remove(eventData.TransactionId);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        _pending.Remove(eventData.TransactionId);
        return Task.CompletedTask;
    }

    private void Collect(DbContext? context)
    {
        if (context is null) return;
        var added = context.ChangeTracker.Entries<OutboxEvent>().Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        if (added.Count == 0) return;
        var key = context.Database.CurrentTransaction?.TransactionId ?? Guid.Empty;
        if (!_pending.TryGetValue(key, out var rows)) _pending[key] = rows = [];
        foreach (var row in added) rows[row.Id] = row;
    }

    private async Task FlushAsync(Guid key)
    {
        if (!_pending.Remove(key, out var rows) || rows.Count == 0) return;
        try
        {
            // Not the request's token: the change is committed, its events should leave even if the caller gave up.
            await publisher.PublishAsync(rows.Values.OrderBy(r => r.OccurredAt).Select(OutboxMessage.From).ToList(), CancellationToken.None);
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Relay could not publish outbox event(s) {EventIds}; the sweeper will", string.Join(", ", rows.Keys));
        }
    }
}
