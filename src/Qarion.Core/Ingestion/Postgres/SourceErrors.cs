namespace Qarion.Core.Ingestion.Postgres;

/// <summary>Reading a failure of a source database: shared by the scraper and the quality check runner.</summary>
internal static class SourceErrors
{
    /// <summary>The first exception of type <typeparamref name="T"/> in the chain of inner exceptions.</summary>
    public static T? Find<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is T found) return found;
        return null;
    }

    /// <summary>The last line of defence: no message leaves with the password in it, whatever put it there.</summary>
    public static string Scrub(string message, string? password)
        => string.IsNullOrEmpty(password) ? message : message.Replace(password, "***", System.StringComparison.Ordinal);
}
