namespace Qarion.Core.Quality;

/// <summary>
/// Checks that user SQL (sql_metric, sql_condition) is one statement that can be wrapped as a subquery. This is
/// not the security boundary — the read-only transaction is — but it turns "two statements" and "escapes the
/// subquery's parentheses" into a clear 422 instead of a confusing source error. The scanner knows PostgreSQL's
/// lexical quoting: '…' (with '' inside), E'…' (with backslash escapes), "…", $tag$…$tag$, -- and nested /* */.
/// </summary>
public static class UserSql
{
    /// <summary>The statement without trailing semicolons; throws when there is more than one statement.</summary>
    /// <exception cref="CheckConfigException">Empty, several statements, unbalanced parentheses or an unterminated quote.</exception>
    public static string SingleStatement(string? sql)
    {
        if (string.IsNullOrWhiteSpace(sql)) throw new CheckConfigException("sql", "sql is required");
        var depth = 0;
        int? end = null; // the first top-level ';' (a trailing one is allowed and dropped)
        for (var i = 0; i < sql.Length;)
        {
            var ch = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : '\0';
            if (char.IsWhiteSpace(ch)) { i++; continue; }
            if (ch == '-' && next == '-') { i = SkipLine(sql, i); continue; }
            if (ch == '/' && next == '*') { i = SkipBlockComment(sql, i); continue; }
            // Anything but whitespace and comments after a ';' is a second statement.
            if (end is not null) throw new CheckConfigException("sql", "Only one SQL statement is allowed (found text after ';')");
            if (ch == ';') { end = i; i++; continue; }
            if (ch == '\'')
            {
                var escapes = i > 0 && sql[i - 1] is 'e' or 'E' && (i < 2 || !IsIdentifierChar(sql[i - 2]));
                i = SkipQuoted(sql, i, '\'', escapes);
                continue;
            }
            if (ch == '"') { i = SkipQuoted(sql, i, '"', backslashEscapes: false); continue; }
            if (ch == '$' && (i == 0 || !IsIdentifierChar(sql[i - 1])) && DollarTag(sql, i) is { } tag)
            {
                var close = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                if (close < 0) throw new CheckConfigException("sql", $"Unterminated dollar-quoted string {tag}");
                i = close + tag.Length;
                continue;
            }
            if (ch == '(') depth++;
            if (ch == ')' && --depth < 0) throw new CheckConfigException("sql", "Unbalanced parentheses: ')' without '('");
            i++;
        }
        if (depth != 0) throw new CheckConfigException("sql", "Unbalanced parentheses: '(' without ')'");
        var statement = (end is { } e ? sql[..e] : sql).Trim();
        if (statement.Length == 0) throw new CheckConfigException("sql", "sql is required");
        return statement;
    }

    private static bool IsIdentifierChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '$';

    private static int SkipLine(string sql, int i)
    {
        var newline = sql.IndexOf('\n', i);
        return newline < 0 ? sql.Length : newline + 1;
    }

    private static int SkipBlockComment(string sql, int i)
    {
        // PostgreSQL block comments nest.
        var depth = 0;
        while (i < sql.Length)
        {
            if (sql[i] == '/' && i + 1 < sql.Length && sql[i + 1] == '*') { depth++; i += 2; }
            else if (sql[i] == '*' && i + 1 < sql.Length && sql[i + 1] == '/') { depth--; i += 2; if (depth == 0) return i; }
            else i++;
        }
        throw new CheckConfigException("sql", "Unterminated /* comment");
    }

    private static int SkipQuoted(string sql, int i, char quote, bool backslashEscapes)
    {
        for (i++; i < sql.Length; i++)
        {
            if (backslashEscapes && sql[i] == '\\') { i++; continue; }
            if (sql[i] != quote) continue;
            if (i + 1 < sql.Length && sql[i + 1] == quote) { i++; continue; } // doubled quote inside
            return i + 1;
        }
        throw new CheckConfigException("sql", quote == '"' ? "Unterminated quoted identifier" : "Unterminated string literal");
    }

    /// <summary><c>$$</c> or <c>$tag$</c> starting at <paramref name="i"/>; null for a parameter such as <c>$1</c>.</summary>
    private static string? DollarTag(string sql, int i)
    {
        var j = i + 1;
        if (j < sql.Length && (char.IsDigit(sql[j]))) return null;
        while (j < sql.Length && (char.IsLetterOrDigit(sql[j]) || sql[j] == '_')) j++;
        return j < sql.Length && sql[j] == '$' ? sql[i..(j + 1)] : null;
    }
}
