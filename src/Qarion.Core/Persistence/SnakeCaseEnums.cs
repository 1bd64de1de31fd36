using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Qarion.Core.Common;

namespace Qarion.Core.Persistence;

/// <summary>Stores an enum as its snake_case name (<c>InProgress</c> ↔ <c>in_progress</c>), the same spelling the API uses.</summary>
public sealed class SnakeEnumConverter<T>() : ValueConverter<T, string>(v => SnakeCaseEnums.Name(v), s => SnakeCaseEnums.Parse<T>(s))
    where T : struct, Enum;

public static class SnakeCaseEnums
{
    public static string Name<T>(T value) where T : struct, Enum => JsonNames.ToSnakeCase(value.ToString());

    public static T Parse<T>(string s) where T : struct, Enum => Enum.Parse<T>(s.Replace("_", "", StringComparison.Ordinal), true);
}
