using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Qarion.Functions.Http;

/// <summary>Typed results written with <see cref="ApiJson"/> (no MVC formatters involved).</summary>
public static class ApiResults
{
    public static IActionResult Ok<T>(T body, uint? version = null) => new JsonBodyResult(body, StatusCodes.Status200OK, version);

    public static IActionResult Created<T>(string location, T body, uint? version = null)
        => new JsonBodyResult(body, StatusCodes.Status201Created, version, location);

    public static IActionResult Accepted<T>(T body) => new JsonBodyResult(body, StatusCodes.Status202Accepted);

    public static IActionResult NoContent() => new StatusCodeResult(StatusCodes.Status204NoContent);

    /// <summary>An entity tag for a row version: <c>"42"</c>.</summary>
    public static string ETag(uint version) => $"\"{version}\"";
}

public sealed class JsonBodyResult(object? body, int status, uint? version = null, string? location = null, string contentType = "application/json; charset=utf-8") : IActionResult
{
    public object? Body { get; } = body;
    public int Status { get; } = status;

    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = Status;
        response.ContentType = contentType;
        response.Headers.CacheControl = "no-store";
        if (version is not null) response.Headers.ETag = ApiResults.ETag(version.Value);
        if (location is not null) response.Headers.Location = location;
        await JsonSerializer.SerializeAsync(response.Body, Body, Body?.GetType() ?? typeof(object), ApiJson.Options, context.HttpContext.RequestAborted);
    }
}
