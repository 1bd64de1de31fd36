namespace Qarion.Core.Common;

public static class Text
{
    /// <summary>True for NUL and the other C0 control characters except tab, line feed and carriage return.</summary>
    public static bool HasForbiddenControlCharacter(string? value)
    {
        if (value is null) return false;
        foreach (var c in value)
            if (c < ' ' && c is not ('\t' or '\n' or '\r')) return true;
        return false;
    }
}
