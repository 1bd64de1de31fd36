using System.Text.Json.Serialization;
using FluentValidation;

namespace Qarion.Core.Lineage;

public sealed record AddUpstreamRequest
{
    public required Guid UpstreamId { get; init; }
    public LineageRelationship Relationship { get; init; } = LineageRelationship.Transforms;
}

public sealed record ReplaceUpstreamRequest
{
    public required IReadOnlyList<AddUpstreamRequest> Upstream { get; init; }
}

public sealed class ReplaceUpstreamRequestValidator : AbstractValidator<ReplaceUpstreamRequest>
{
    public ReplaceUpstreamRequestValidator()
        => RuleFor(x => x.Upstream).Must(u => u.Count <= 1000).WithMessage("at most 1000 edges").WithErrorCode("too_long");
}

public sealed class AddUpstreamRequestValidator : AbstractValidator<AddUpstreamRequest>
{
    public AddUpstreamRequestValidator() => RuleFor(x => x.Relationship).IsInEnum();
}

/// <summary>
/// A node of a lineage graph. A product in a space the caller cannot see is returned as its id and
/// <c>restricted: true</c> only; every other property is left out.
/// </summary>
public sealed record LineageNode(
    Guid Id,
    bool Restricted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SpaceSlug = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Slug = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ProductType = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? IsArchived = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? UpstreamDepth = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? DownstreamDepth = null);

public sealed record LineageEdgeResponse(Guid Id, Guid UpstreamId, Guid DownstreamId, LineageRelationship Relationship, DateTimeOffset CreatedAt);

public sealed record LineageGraphResponse(IReadOnlyList<Guid> Roots, IReadOnlyList<LineageNode> Nodes, IReadOnlyList<LineageEdgeResponse> Edges, bool Truncated);

public enum LineageDirection { Upstream = 1, Downstream = 2, Both = 3 }
