using Microsoft.EntityFrameworkCore;

namespace Qarion.Core.Common;

/// <summary>A validated page request: <c>page</c> from 1, <c>size</c> from 1 to <see cref="MaxSize"/>.</summary>
public sealed record PageRequest
{
    public const int DefaultSize = 20;
    public const int MaxSize = 100;

    public PageRequest(int page = 1, int size = DefaultSize)
    {
        var errors = new List<FieldError>();
        if (page < 1)
            errors.Add(new FieldError(["query", "page"], "page must be greater than or equal to 1", "greater_than_equal"));
        if (size < 1)
            errors.Add(new FieldError(["query", "size"], "size must be greater than or equal to 1", "greater_than_equal"));
        else if (size > MaxSize)
            errors.Add(new FieldError(["query", "size"], $"size must be less than or equal to {MaxSize}", "less_than_equal"));
        if (errors.Count > 0) throw new RequestValidationException(errors);
        Page = page;
        Size = size;
    }

    public int Page { get; }
    public int Size { get; }
    /// <summary>Rows before this page; a long, because page × size can exceed int for absurd pages.</summary>
    public long Skip => (long)(Page - 1) * Size;
}

/// <summary>One page of a list: <c>{items, total, page, size}</c>.</summary>
public sealed record Paged<T>(IReadOnlyList<T> Items, int Total, int Page, int Size);

public static class PagingExtensions
{
    /// <summary>Counts and fetches one page. The query must already carry a stable order.</summary>
    public static async Task<Paged<T>> ToPageAsync<T>(this IQueryable<T> query, PageRequest request, CancellationToken ct)
    {
        var total = await query.CountAsync(ct);
        var items = total <= request.Skip
            ? []
            : await query.Skip((int)request.Skip).Take(request.Size).ToListAsync(ct);
        return new Paged<T>(items, total, request.Page, request.Size);
    }
}
