namespace Qarion.Functions.Http;

/// <summary>Marks an HTTP function that runs without authentication (health, bootstrap, OpenAPI).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AllowAnonymousAttribute : Attribute;
