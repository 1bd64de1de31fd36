namespace Qarion.Core.Common;

public static class Text
{
    /// <summary>A LIKE/ILIKE pattern matching <paramref name="value"/> anywhere, with \ as the escape character.</summary>
    public static string ContainsPattern(string value)
        => "%" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    /// <summary>True for NUL and the other C0 control characters except tab, line feed and carriage return.</summary>
    public static bool HasForbiddenControlCharacter(string? value)
    {
        if (value is null) return false;
        foreach (var c in value)
            if (c < ' ' && c is not ('\t' or '\n' or '\r')) return true;
        return false;
    }
}
