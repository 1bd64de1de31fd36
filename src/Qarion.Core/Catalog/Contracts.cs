using FluentValidation;
using Qarion.Core.Common;

namespace Qarion.Core.Catalog;

public sealed record UserRef(Guid Id, string Email, string DisplayName);

public sealed record TagRef(Guid Id, string Name, string? Color);

public sealed record GovernanceResponse(UserRef? Owner, UserRef? Steward, UserRef? Custodian, UserRef? DataArchitect);

/// <summary>Whether a person (<c>manual</c>) or a scraper (<c>scraper</c>) set each attribute last.</summary>
public sealed record ProductResponse(
    Guid Id, Guid SpaceId, string Slug, string Name, string? Description, string? Documentation,
    string ProductType, string? Provider, string? HostingLocation, string? Environment,
    Criticality? Criticality, Sensitivity? Sensitivity,
    IReadOnlyList<TagRef> Tags, GovernanceResponse Governance,
    bool IsArchived, DateTimeOffset? ArchivedAt, bool IsStale, DateTimeOffset? StaleSince, bool IsDiscovered,
    int FieldCount, IReadOnlyList<string> ManualAttributes,
    Quality.QualitySummary? Quality,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

/// <summary>The list view of a product: no documentation, no field list.</summary>
public sealed record ProductSummary(
    Guid Id, string Slug, string Name, string? Description, string ProductType, string? HostingLocation,
    Criticality? Criticality, Sensitivity? Sensitivity, IReadOnlyList<TagRef> Tags, Guid? OwnerId,
    bool IsArchived, bool IsStale, double? QualityScore, DateTimeOffset UpdatedAt, uint Version);

public sealed record CreateProductRequest
{
    public required string Slug { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    public string? Documentation { get; init; }
    public required string ProductType { get; init; }
    public string? Provider { get; init; }
    public string? HostingLocation { get; init; }
    public string? Environment { get; init; }
    public Criticality? Criticality { get; init; }
    public Sensitivity? Sensitivity { get; init; }
    /// <summary>Existing tags of the space.</summary>
    public IReadOnlyList<Guid>? TagIds { get; init; }
    /// <summary>Tags by name; Editors create missing ones inline.</summary>
    public IReadOnlyList<string>? Tags { get; init; }
    public Guid? OwnerId { get; init; }
    public Guid? StewardId { get; init; }
    public Guid? CustodianId { get; init; }
    public Guid? DataArchitectId { get; init; }
    public IReadOnlyList<FieldInput>? Fields { get; init; }
}

public sealed record UpdateProductRequest
{
    public Optional<string> Slug { get; init; }
    public Optional<string> Name { get; init; }
    public Optional<string?> Description { get; init; }
    public Optional<string?> Documentation { get; init; }
    public Optional<string> ProductType { get; init; }
    public Optional<string?> Provider { get; init; }
    public Optional<string?> HostingLocation { get; init; }
    public Optional<string?> Environment { get; init; }
    public Optional<Criticality?> Criticality { get; init; }
    public Optional<Sensitivity?> Sensitivity { get; init; }
    /// <summary>Replaces the product's tags (ids).</summary>
    public Optional<IReadOnlyList<Guid>> TagIds { get; init; }
    public Optional<Guid?> OwnerId { get; init; }
    public Optional<Guid?> StewardId { get; init; }
    public Optional<Guid?> CustodianId { get; init; }
    public Optional<Guid?> DataArchitectId { get; init; }
    public uint? Version { get; init; }
}

public sealed record GovernanceRequest
{
    public Optional<Guid?> OwnerId { get; init; }
    public Optional<Guid?> StewardId { get; init; }
    public Optional<Guid?> CustodianId { get; init; }
    public Optional<Guid?> DataArchitectId { get; init; }
    public uint? Version { get; init; }
}

public sealed record FieldInput
{
    public required string Name { get; init; }
    public string? DataType { get; init; }
    public bool? IsNullable { get; init; }
    public string? Description { get; init; }
    public int? Ordinal { get; init; }
    public bool? IsPrimaryKey { get; init; }
    public string? ForeignKeyTarget { get; init; }
}

public sealed record UpdateFieldRequest
{
    public Optional<string> Name { get; init; }
    public Optional<string?> DataType { get; init; }
    public Optional<bool> IsNullable { get; init; }
    public Optional<string?> Description { get; init; }
    public Optional<int> Ordinal { get; init; }
    public Optional<bool> IsPrimaryKey { get; init; }
    public Optional<string?> ForeignKeyTarget { get; init; }
}

public sealed record ReplaceFieldsRequest
{
    public required IReadOnlyList<FieldInput> Fields { get; init; }
    public uint? Version { get; init; }
}

public sealed record FieldResponse(
    Guid Id, string Name, string? DataType, bool IsNullable, string? Description, int Ordinal,
    bool IsPrimaryKey, string? ForeignKeyTarget, IReadOnlyList<string> ManualAttributes,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record TagResponse(Guid Id, string Name, string? Description, string? Color, int UsageCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

public sealed record CreateTagRequest
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    public string? Color { get; init; }
}

public sealed record UpdateTagRequest
{
    public Optional<string> Name { get; init; }
    public Optional<string?> Description { get; init; }
    public Optional<string?> Color { get; init; }
    public uint? Version { get; init; }
}

public sealed record AttachTagRequest
{
    public Guid? TagId { get; init; }
    /// <summary>A tag name; created inline (Editors) when the space has no such tag.</summary>
    public string? Name { get; init; }
}

public sealed record ProductTypeResponse(string Name, bool BuiltIn, string? Description, int UsageCount);

public sealed record CreateProductTypeRequest
{
    public required string Name { get; init; }
    public string? Description { get; init; }
}

internal static class CatalogRules
{
    public const int TagNameMax = 100;

    public static IRuleBuilderOptions<T, string?> OptionalText<T>(this IRuleBuilder<T, string?> rule, int max)
        => rule.MaximumLength(max).WithMessage($"must be at most {max} characters").WithErrorCode("string_too_long");

    public static IRuleBuilderOptions<T, string> TypeName<T>(this IRuleBuilderInitial<T, string> rule)
        => rule.Cascade(CascadeMode.Stop).NotEmpty().WithErrorCode("missing")
            .Matches("^[a-z][a-z0-9_]{0,62}$").WithMessage("must be lower-case letters, digits and underscores, starting with a letter")
            .WithErrorCode("string_pattern_mismatch");

    public static IRuleBuilderOptions<T, string?> Color<T>(this IRuleBuilder<T, string?> rule)
        => rule.Matches("^#[0-9a-fA-F]{6}$").WithMessage("must be a colour like #1f77b4").WithErrorCode("string_pattern_mismatch");
}

public sealed class FieldInputValidator : AbstractValidator<FieldInput>
{
    public FieldInputValidator()
    {
        RuleFor(x => x.Name).Name(300);
        RuleFor(x => x.DataType).OptionalText(200);
        RuleFor(x => x.Description).OptionalText(4000);
        RuleFor(x => x.ForeignKeyTarget).OptionalText(500);
        RuleFor(x => x.Ordinal).GreaterThanOrEqualTo(0).When(x => x.Ordinal is not null);
    }
}

public sealed class CreateProductRequestValidator : AbstractValidator<CreateProductRequest>
{
    public CreateProductRequestValidator()
    {
        RuleFor(x => x.Slug).Slug();
        RuleFor(x => x.Name).Name();
        RuleFor(x => x.Description).OptionalText(Validation.DescriptionMaxLength);
        RuleFor(x => x.Documentation).OptionalText(200_000);
        RuleFor(x => x.ProductType).TypeName();
        RuleFor(x => x.Provider).OptionalText(200);
        RuleFor(x => x.HostingLocation).OptionalText(500);
        RuleFor(x => x.Environment).OptionalText(63);
        RuleFor(x => x.Criticality).IsInEnum();
        RuleFor(x => x.Sensitivity).IsInEnum();
        RuleFor(x => x.TagIds).Must(t => t is null || t.Count <= 100).WithMessage("at most 100 tags").WithErrorCode("too_long");
        RuleForEach(x => x.Tags).Name(CatalogRules.TagNameMax);
        RuleFor(x => x.Tags).Must(t => t is null || t.Count <= 100).WithMessage("at most 100 tags").WithErrorCode("too_long");
        RuleFor(x => x.Fields).Must(f => f is null || f.Count <= 5000).WithMessage("at most 5000 fields").WithErrorCode("too_long");
        RuleForEach(x => x.Fields).SetValidator(new FieldInputValidator());
    }
}

public sealed class UpdateProductRequestValidator : AbstractValidator<UpdateProductRequest>
{
    public UpdateProductRequestValidator()
    {
        When(x => x.Slug.IsSet, () => RuleFor(x => x.Slug.Value).Slug().OverridePropertyName("Slug"));
        When(x => x.Name.IsSet, () => RuleFor(x => x.Name.Value).Name().OverridePropertyName("Name"));
        When(x => x.ProductType.IsSet, () => RuleFor(x => x.ProductType.Value).TypeName().OverridePropertyName("ProductType"));
        RuleFor(x => x.Description.Value).OptionalText(Validation.DescriptionMaxLength).OverridePropertyName("Description");
        RuleFor(x => x.Documentation.Value).OptionalText(200_000).OverridePropertyName("Documentation");
        RuleFor(x => x.Provider.Value).OptionalText(200).OverridePropertyName("Provider");
        RuleFor(x => x.HostingLocation.Value).OptionalText(500).OverridePropertyName("HostingLocation");
        RuleFor(x => x.Environment.Value).OptionalText(63).OverridePropertyName("Environment");
        RuleFor(x => x.TagIds.Value).Must(t => t is null || t.Count <= 100).WithMessage("at most 100 tags").WithErrorCode("too_long").OverridePropertyName("TagIds");
    }
}

public sealed class ReplaceFieldsRequestValidator : AbstractValidator<ReplaceFieldsRequest>
{
    public ReplaceFieldsRequestValidator()
    {
        RuleFor(x => x.Fields).Must(f => f.Count <= 5000).WithMessage("at most 5000 fields").WithErrorCode("too_long");
        RuleForEach(x => x.Fields).SetValidator(new FieldInputValidator());
    }
}

public sealed class UpdateFieldRequestValidator : AbstractValidator<UpdateFieldRequest>
{
    public UpdateFieldRequestValidator()
    {
        When(x => x.Name.IsSet, () => RuleFor(x => x.Name.Value).Name(300).OverridePropertyName("Name"));
        RuleFor(x => x.DataType.Value).OptionalText(200).OverridePropertyName("DataType");
        RuleFor(x => x.Description.Value).OptionalText(4000).OverridePropertyName("Description");
        RuleFor(x => x.ForeignKeyTarget.Value).OptionalText(500).OverridePropertyName("ForeignKeyTarget");
        When(x => x.Ordinal.IsSet, () => RuleFor(x => x.Ordinal.Value).GreaterThanOrEqualTo(0).OverridePropertyName("Ordinal"));
    }
}

public sealed class CreateTagRequestValidator : AbstractValidator<CreateTagRequest>
{
    public CreateTagRequestValidator()
    {
        RuleFor(x => x.Name).Name(CatalogRules.TagNameMax);
        RuleFor(x => x.Description).OptionalText(1000);
        RuleFor(x => x.Color).Color();
    }
}

public sealed class UpdateTagRequestValidator : AbstractValidator<UpdateTagRequest>
{
    public UpdateTagRequestValidator()
    {
        When(x => x.Name.IsSet, () => RuleFor(x => x.Name.Value).Name(CatalogRules.TagNameMax).OverridePropertyName("Name"));
        RuleFor(x => x.Description.Value).OptionalText(1000).OverridePropertyName("Description");
        RuleFor(x => x.Color.Value).Color().OverridePropertyName("Color");
    }
}

public sealed class AttachTagRequestValidator : AbstractValidator<AttachTagRequest>
{
    public AttachTagRequestValidator()
    {
        RuleFor(x => x).Must(x => (x.TagId is null) != (x.Name is null))
            .WithMessage("send exactly one of tag_id and name").WithErrorCode("value_error").OverridePropertyName("TagId");
        When(x => x.Name is not null, () => RuleFor(x => x.Name!).Name(CatalogRules.TagNameMax));
    }
}

public sealed class CreateProductTypeRequestValidator : AbstractValidator<CreateProductTypeRequest>
{
    public CreateProductTypeRequestValidator()
    {
        RuleFor(x => x.Name).TypeName();
        RuleFor(x => x.Description).OptionalText(1000);
    }
}
