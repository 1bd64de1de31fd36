using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Functions.Http;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Http;

/// <summary>
/// Every bad input gets its documented 4xx (never a 500) with a machine-readable RFC 9457 body, and writes
/// nothing. Each case sends one request through the real routes and middleware and compares a fingerprint
/// of every table (row counts plus row versions) taken before and after.
/// </summary>
public sealed class BadInputTests(AppFixture app) : IClassFixture<AppFixture>
{
    private const string Slug = "bad-input";
    private const int Limit = 1024 * 1024;

    // ───────────────────────────── cases ─────────────────────────────

    /// <summary>A request body and the errors it must produce (<c>loc:type</c>, <c>*</c> matches anything).</summary>
    public sealed record Case(string? Body, bool Exact, params string[] Errors);

    private static Case C(string? body, params string[] errors) => new(body, false, errors);
    private static Case Exactly(string? body, params string[] errors) => new(body, true, errors);
    private static string Long(int length, char c = 'n') => new(c, length);
    private static string LongEmail(int length) => Long(length - "@example.com".Length, 'e') + "@example.com";

    /// <summary>Endpoints that read a JSON body. <c>{slug}</c>, <c>{admin}</c>, <c>{target}</c> are filled in per test.</summary>
    private static readonly string[] BodyEndpoints =
    [
        "POST /api/v1/spaces",
        "PATCH /api/v1/spaces/{slug}",
        "POST /api/v1/spaces/{slug}/members",
        "PATCH /api/v1/spaces/{slug}/members/{admin}",
        "POST /api/v1/users",
        "PATCH /api/v1/users/{target}",
        "POST /api/v1/me/api-keys",
        "POST /api/v1/bootstrap",
    ];

    /// <summary>A body each endpoint would accept, so a check that is skipped shows up as a write.</summary>
    private static string ValidBody(string endpoint) => endpoint switch
    {
        "POST /api/v1/spaces" => """{"slug":"valid-{random}","name":"Valid"}""",
        "PATCH /api/v1/spaces/{slug}" => """{"name":"Renamed {random}"}""",
        "POST /api/v1/spaces/{slug}/members" => """{"user_id":"{target}","role":"viewer"}""",
        "PATCH /api/v1/spaces/{slug}/members/{admin}" => """{"role":"viewer"}""",
        "POST /api/v1/users" => """{"email":"valid-{random}@example.com","display_name":"Valid"}""",
        "PATCH /api/v1/users/{target}" => """{"display_name":"Renamed {random}"}""",
        "POST /api/v1/me/api-keys" => """{"name":"valid {random}"}""",
        "POST /api/v1/bootstrap" => $$"""{"token":"{{AppFixture.BootstrapToken}}","email":"valid-{random}@example.com","display_name":"Valid"}""",
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, null),
    };

    /// <summary>Bodies that are wrong for every endpoint.</summary>
    private static readonly Dictionary<string, Case> GenericCases = new(StringComparer.Ordinal)
    {
        ["malformed: unclosed object"] = Exactly("""{"name": "x" """, "body:json_invalid"),
        ["malformed: trailing comma"] = Exactly("""{"name": "x",}""", "body:json_invalid"),
        ["malformed: single quotes"] = Exactly("{'name': 'x'}", "body:json_invalid"),
        ["malformed: comment"] = Exactly("""{"name": "x" /* hi */}""", "body:json_invalid"),
        ["malformed: two documents"] = Exactly("{} {}", "body:json_invalid"),
        ["malformed: bare word"] = Exactly("hello", "body:json_invalid"),
        ["malformed: NaN literal"] = Exactly("""{"name": NaN}""", "body:json_invalid"),
        ["malformed: unquoted key"] = Exactly("{name: \"x\"}", "body:json_invalid"),
        ["malformed: whitespace only"] = Exactly("  \n\t ", "body:json_invalid"),
        ["malformed: nested deeper than 64"] = Exactly("{\"x\":" + new string('[', 100) + new string(']', 100) + "}", "body:json_invalid"),
        ["not an object: empty array"] = Exactly("[]", "body:model_attributes_type"),
        ["not an object: array of an object"] = Exactly("""[{"name":"x"}]""", "body:model_attributes_type"),
        ["not an object: string"] = Exactly("\"text\"", "body:model_attributes_type"),
        ["not an object: number"] = Exactly("42", "body:model_attributes_type"),
        ["not an object: boolean"] = Exactly("true", "body:model_attributes_type"),
        ["not an object: null"] = Exactly("null", "body:model_attributes_type"),
        ["empty body"] = Exactly("", "body:missing"),
        ["no body at all"] = Exactly(null, "body:missing"),
        ["unknown field"] = C("""{"definitely_not_a_field": 1}""", "body.definitely_not_a_field:extra_forbidden"),
    };

    private static readonly Dictionary<string, Case> CreateSpaceCases = new(StringComparer.Ordinal)
    {
        ["all required fields missing"] = Exactly("{}", "body.slug:missing", "body.name:missing"),
        ["name missing"] = Exactly("""{"slug":"ok-slug"}""", "body.name:missing"),
        ["slug missing"] = Exactly("""{"name":"N","description":"D"}""", "body.slug:missing"),
        ["unknown field"] = Exactly("""{"slug":"ok-slug","name":"N","colour":"red"}""", "body.colour:extra_forbidden"),
        ["field names are case-sensitive"] = Exactly("""{"Slug":"ok-slug","name":"N"}""", "body.Slug:extra_forbidden", "body.slug:missing"),
        ["duplicate field"] = Exactly("""{"slug":"ok-slug","slug":"other","name":"N"}""", "body.slug:duplicate_field"),
        ["duplicate field spelled with an escape"] = Exactly("""{"slug":"ok-slug","sl\u0075g":"other","name":"N"}""", "body.slug:duplicate_field"),
        ["several mistakes reported at once"] = Exactly("""{"slug":1,"name":null,"extra":true}""",
            "body.slug:type_error", "body.name:null_forbidden", "body.extra:extra_forbidden"),
        ["number for slug"] = Exactly("""{"slug":42,"name":"N"}""", "body.slug:type_error"),
        ["boolean for name"] = Exactly("""{"slug":"ok-slug","name":true}""", "body.name:type_error"),
        ["object for name"] = Exactly("""{"slug":"ok-slug","name":{"en":"N"}}""", "body.name:type_error"),
        ["array for description"] = Exactly("""{"slug":"ok-slug","name":"N","description":["d"]}""", "body.description:type_error"),
        ["null slug"] = Exactly("""{"slug":null,"name":"N"}""", "body.slug:null_forbidden"),
        ["null name"] = Exactly("""{"slug":"ok-slug","name":null}""", "body.name:null_forbidden"),
        ["name of 201 characters"] = Exactly($$"""{"slug":"ok-slug","name":"{{Long(201)}}"}""", "body.name:string_too_long"),
        ["blank name"] = Exactly("""{"slug":"ok-slug","name":"   "}""", "body.name:string_too_short"),
        ["empty name"] = Exactly("""{"slug":"ok-slug","name":""}""", "body.name:string_too_short"),
        ["description of 4001 characters"] = Exactly($$"""{"slug":"ok-slug","name":"N","description":"{{Long(4001)}}"}""", "body.description:string_too_long"),
        ["empty slug"] = C("""{"slug":"","name":"N"}""", "body.slug:*"),
        ["NUL character in name"] = C("""{"slug":"ok-slug","name":"a\u0000b"}""", "body.name:*"),
        ["NUL character in description"] = C("""{"slug":"ok-slug","name":"N","description":"a\u0000b"}""", "body.description:*"),
        ["lone surrogate in name"] = C("""{"slug":"ok-slug","name":"\ud800"}""", "body.name:*"),
    };

    private static readonly Dictionary<string, Case> UpdateSpaceCases = new(StringComparer.Ordinal)
    {
        ["null name"] = Exactly("""{"name":null}""", "body.name:null_forbidden"),
        ["null slug"] = Exactly("""{"slug":null}""", "body.slug:null_forbidden"),
        ["number for name"] = Exactly("""{"name":42}""", "body.name:type_error"),
        ["number for description"] = Exactly("""{"description":42}""", "body.description:type_error"),
        ["string for version"] = Exactly("""{"version":"abc"}""", "body.version:type_error"),
        ["negative version"] = Exactly("""{"version":-1}""", "body.version:type_error"),
        ["fractional version"] = Exactly("""{"version":1.5}""", "body.version:type_error"),
        ["version beyond uint"] = Exactly("""{"version":4294967296}""", "body.version:type_error"),
        ["misspelt field"] = Exactly("""{"nmae":"typo"}""", "body.nmae:extra_forbidden"),
        ["duplicate field"] = Exactly("""{"name":"A","name":"B"}""", "body.name:duplicate_field"),
        ["name of 201 characters"] = Exactly($$"""{"name":"{{Long(201)}}"}""", "body.name:string_too_long"),
        ["description of 4001 characters"] = Exactly($$"""{"description":"{{Long(4001)}}"}""", "body.description:string_too_long"),
        ["blank name"] = Exactly("""{"name":" "}""", "body.name:string_too_short"),
        ["invalid slug"] = Exactly("""{"slug":"UPPER"}""", "body.slug:slug_invalid"),
        ["NUL character in name"] = C("""{"name":"a\u0000b"}""", "body.name:*"),
    };

    private static readonly Dictionary<string, Case> AddMemberCases = new(StringComparer.Ordinal)
    {
        ["role missing"] = Exactly("""{"user_id":"{target}"}""", "body.role:missing"),
        ["unknown role \"owner\""] = Exactly("""{"user_id":"{target}","role":"owner"}""", "body.role:type_error"),
        ["integer role"] = Exactly("""{"user_id":"{target}","role":3}""", "body.role:type_error"),
        ["integer role in a string"] = Exactly("""{"user_id":"{target}","role":"3"}""", "body.role:type_error"),
        ["two roles combined"] = Exactly("""{"user_id":"{target}","role":"viewer, editor"}""", "body.role:type_error"),
        ["empty role"] = Exactly("""{"user_id":"{target}","role":""}""", "body.role:type_error"),
        ["null role"] = Exactly("""{"user_id":"{target}","role":null}""", "body.role:null_forbidden"),
        ["user_id not a UUID"] = Exactly("""{"user_id":"abc","role":"viewer"}""", "body.user_id:type_error"),
        ["user_id a number"] = Exactly("""{"user_id":123,"role":"viewer"}""", "body.user_id:type_error"),
        ["both user_id and email"] = Exactly("""{"user_id":"{target}","email":"target@example.com","role":"viewer"}""", "body.user_id:value_error"),
        ["neither user_id nor email"] = Exactly("""{"role":"viewer"}""", "body.user_id:value_error"),
        ["invalid email"] = Exactly("""{"email":"not-an-email","role":"viewer"}""", "body.email:value_error.email"),
        ["email of 321 characters"] = C($$"""{"email":"{{LongEmail(321)}}","role":"viewer"}""", "body.email:string_too_long"),
        ["unknown user id"] = Exactly("""{"user_id":"{random-uuid}","role":"viewer"}""", "body.user_id:not_found"),
        ["unknown email"] = Exactly("""{"email":"nobody-{random}@example.com","role":"viewer"}""", "body.email:not_found"),
        ["unknown field"] = Exactly("""{"user_id":"{target}","role":"viewer","expires":"never"}""", "body.expires:extra_forbidden"),
    };

    private static readonly Dictionary<string, Case> ChangeMemberRoleCases = new(StringComparer.Ordinal)
    {
        ["role missing"] = Exactly("{}", "body.role:missing"),
        ["unknown role \"owner\""] = Exactly("""{"role":"owner"}""", "body.role:type_error"),
        ["integer role"] = Exactly("""{"role":1}""", "body.role:type_error"),
        ["two roles combined"] = Exactly("""{"role":"editor, viewer"}""", "body.role:type_error"),
        ["null role"] = Exactly("""{"role":null}""", "body.role:null_forbidden"),
        ["unknown field"] = Exactly("""{"role":"admin","user_id":"{admin}"}""", "body.user_id:extra_forbidden"),
    };

    private static readonly Dictionary<string, Case> UpdateUserCases = new(StringComparer.Ordinal)
    {
        ["null display_name"] = Exactly("""{"display_name":null}""", "body.display_name:null_forbidden"),
        ["null is_active"] = Exactly("""{"is_active":null}""", "body.is_active:null_forbidden"),
        ["string for is_superadmin"] = Exactly("""{"is_superadmin":"no"}""", "body.is_superadmin:type_error"),
        ["integer for is_active"] = Exactly("""{"is_active":0}""", "body.is_active:type_error"),
        ["display_name of 201 characters"] = Exactly($$"""{"display_name":"{{Long(201)}}"}""", "body.display_name:string_too_long"),
        ["blank display_name"] = Exactly("""{"display_name":" "}""", "body.display_name:string_too_short"),
        ["string for version"] = Exactly("""{"version":"1"}""", "body.version:type_error"),
        ["email is not updatable"] = Exactly("""{"email":"new@example.com"}""", "body.email:extra_forbidden"),
    };

    private static readonly Dictionary<string, Case> CreateUserCases = new(StringComparer.Ordinal)
    {
        ["all required fields missing"] = Exactly("{}", "body.email:missing", "body.display_name:missing"),
        ["camelCase field name"] = Exactly("""{"email":"camel@example.com","displayName":"A"}""", "body.displayName:extra_forbidden", "body.display_name:missing"),
        ["invalid email: no at sign"] = Exactly("""{"email":"not-an-email","display_name":"A"}""", "body.email:value_error.email"),
        ["invalid email: nothing after the at sign"] = Exactly("""{"email":"a@","display_name":"A"}""", "body.email:value_error.email"),
        ["invalid email: nothing before the at sign"] = Exactly("""{"email":"@example.com","display_name":"A"}""", "body.email:value_error.email"),
        ["invalid email: two at signs"] = Exactly("""{"email":"a@b@example.com","display_name":"A"}""", "body.email:value_error.email"),
        ["empty email"] = C("""{"email":"","display_name":"A"}""", "body.email:missing"),
        ["email of 321 characters"] = Exactly($$"""{"email":"{{LongEmail(321)}}","display_name":"A"}""", "body.email:string_too_long"),
        ["display_name of 201 characters"] = Exactly($$"""{"email":"long-name@example.com","display_name":"{{Long(201)}}"}""", "body.display_name:string_too_long"),
        ["blank display_name"] = Exactly("""{"email":"blank@example.com","display_name":"  "}""", "body.display_name:string_too_short"),
        ["string for is_superadmin"] = Exactly("""{"email":"s@example.com","display_name":"A","is_superadmin":"yes"}""", "body.is_superadmin:type_error"),
        ["\"true\" in quotes for is_superadmin"] = Exactly("""{"email":"s@example.com","display_name":"A","is_superadmin":"true"}""", "body.is_superadmin:type_error"),
        ["integer for is_superadmin"] = Exactly("""{"email":"s@example.com","display_name":"A","is_superadmin":1}""", "body.is_superadmin:type_error"),
        ["null is_superadmin"] = Exactly("""{"email":"s@example.com","display_name":"A","is_superadmin":null}""", "body.is_superadmin:null_forbidden"),
        ["null email"] = Exactly("""{"email":null,"display_name":"A"}""", "body.email:null_forbidden"),
        ["number for email"] = Exactly("""{"email":42,"display_name":"A"}""", "body.email:type_error"),
        ["unknown field"] = Exactly("""{"email":"p@example.com","display_name":"A","password":"hunter2"}""", "body.password:extra_forbidden"),
        ["NUL character in display_name"] = C("""{"email":"nul-name@example.com","display_name":"a\u0000b"}""", "body.display_name:*"),
        ["NUL character in email"] = C("""{"email":"nul\u0000@example.com","display_name":"A"}""", "body.email:*"),
    };

    private static readonly Dictionary<string, Case> CreateApiKeyCases = new(StringComparer.Ordinal)
    {
        ["name missing"] = Exactly("{}", "body.name:missing"),
        ["name of 201 characters"] = Exactly($$"""{"name":"{{Long(201)}}"}""", "body.name:string_too_long"),
        ["blank name"] = Exactly("""{"name":"  "}""", "body.name:string_too_short"),
        ["null name"] = Exactly("""{"name":null}""", "body.name:null_forbidden"),
        ["number for name"] = Exactly("""{"name":5}""", "body.name:type_error"),
        ["expires_at without offset"] = Exactly("""{"name":"k","expires_at":"2030-01-01T00:00:00"}""", "body.expires_at:type_error"),
        ["expires_at date only"] = Exactly("""{"name":"k","expires_at":"2030-01-01"}""", "body.expires_at:type_error"),
        ["expires_at with a space instead of T"] = Exactly("""{"name":"k","expires_at":"2030-01-01 00:00:00Z"}""", "body.expires_at:type_error"),
        ["expires_at not a date"] = Exactly("""{"name":"k","expires_at":"tomorrow"}""", "body.expires_at:type_error"),
        ["expires_at month 13"] = Exactly("""{"name":"k","expires_at":"2030-13-01T00:00:00Z"}""", "body.expires_at:type_error"),
        ["expires_at offset +25:00"] = Exactly("""{"name":"k","expires_at":"2030-01-01T00:00:00+25:00"}""", "body.expires_at:type_error"),
        ["expires_at beyond year 9999 in UTC"] = Exactly("""{"name":"k","expires_at":"9999-12-31T23:59:59-01:00"}""", "body.expires_at:type_error"),
        ["expires_at as a Unix timestamp"] = Exactly("""{"name":"k","expires_at":1893456000}""", "body.expires_at:type_error"),
        ["expires_at in the past"] = Exactly("""{"name":"k","expires_at":"2020-01-01T00:00:00Z"}""", "body.expires_at:value_error"),
        ["expires_at exactly now"] = Exactly("""{"name":"k","expires_at":"2026-03-01T09:30:00Z"}""", "body.expires_at:value_error"),
        ["expires_at one second ago, in another offset"] = Exactly("""{"name":"k","expires_at":"2026-03-01T10:29:59+01:00"}""", "body.expires_at:value_error"),
        ["unknown field"] = Exactly("""{"name":"k","scopes":["all"]}""", "body.scopes:extra_forbidden"),
    };

    private static readonly Dictionary<string, Case> BootstrapCases = new(StringComparer.Ordinal)
    {
        ["all required fields missing"] = Exactly("{}", "body.token:missing", "body.email:missing", "body.display_name:missing"),
        ["token of 501 characters"] = Exactly($$"""{"token":"{{Long(501)}}","email":"b@example.com","display_name":"B"}""", "body.token:string_too_long"),
        ["empty token"] = Exactly("""{"token":"","email":"b@example.com","display_name":"B"}""", "body.token:missing"),
        ["number for token"] = Exactly("""{"token":123,"email":"b@example.com","display_name":"B"}""", "body.token:type_error"),
        ["invalid email"] = Exactly($$"""{"token":"{{AppFixture.BootstrapToken}}","email":"nope","display_name":"B"}""", "body.email:value_error.email"),
        ["null display_name"] = Exactly($$"""{"token":"{{AppFixture.BootstrapToken}}","email":"b@example.com","display_name":null}""", "body.display_name:null_forbidden"),
        ["unknown field"] = Exactly($$"""{"token":"{{AppFixture.BootstrapToken}}","email":"b@example.com","display_name":"B","is_superadmin":true}""", "body.is_superadmin:extra_forbidden"),
    };

    public static TheoryData<string, string> GenericBodyCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in BodyEndpoints)
        foreach (var name in GenericCases.Keys)
            data.Add(endpoint, name);
        return data;
    }

    public static TheoryData<string> CreateSpaceCaseNames() => Names(CreateSpaceCases);
    public static TheoryData<string> UpdateSpaceCaseNames() => Names(UpdateSpaceCases);
    public static TheoryData<string> AddMemberCaseNames() => Names(AddMemberCases);
    public static TheoryData<string> ChangeMemberRoleCaseNames() => Names(ChangeMemberRoleCases);
    public static TheoryData<string> CreateUserCaseNames() => Names(CreateUserCases);
    public static TheoryData<string> UpdateUserCaseNames() => Names(UpdateUserCases);
    public static TheoryData<string> CreateApiKeyCaseNames() => Names(CreateApiKeyCases);
    public static TheoryData<string> BootstrapCaseNames() => Names(BootstrapCases);

    private static TheoryData<string> Names(Dictionary<string, Case> cases)
    {
        var data = new TheoryData<string>();
        foreach (var name in cases.Keys) data.Add(name);
        return data;
    }

    // ───────────────────────────── request bodies ─────────────────────────────

    [Theory]
    [MemberData(nameof(GenericBodyCases))]
    public async Task Malformed_non_object_and_empty_bodies_are_422_on_every_endpoint(string endpoint, string @case)
        => await ExpectCaseAsync(await ArrangeAsync(), endpoint, GenericCases[@case]);

    [Theory]
    [MemberData(nameof(CreateSpaceCaseNames))]
    public async Task Create_space_rejects(string @case)
        => await ExpectCaseAsync(await ArrangeAsync(), "POST /api/v1/spaces", CreateSpaceCases[@case]);

    [Theory]
    [MemberData(nameof(UpdateSpaceCaseNames))]
    public async Task Update_space_rejects(string @case)
        => await ExpectCaseAsync(await ArrangeAsync(), "PATCH /api/v1/spaces/{slug}", UpdateSpaceCases[@case]);

    [Theory]
    [MemberData(nameof(AddMemberCaseNames))]
    public async Task Add_member_rejects(string @case)
    {
        var a = await ArrangeAsync();
        try
        {
            await ExpectCaseAsync(a, "POST /api/v1/spaces/{slug}/members", AddMemberCases[@case]);
        }
        finally
        {
            // Should a case be wrongly accepted, undo it so the other cases still start from a non-member.
            await app.WithDbAsync(db => db.SpaceMemberships.Where(m => m.UserId == a.TargetId && m.Space.Slug == Slug).ExecuteDeleteAsync());
        }
    }

    [Theory]
    [MemberData(nameof(ChangeMemberRoleCaseNames))]
    public async Task Change_member_role_rejects(string @case)
        => await ExpectCaseAsync(await ArrangeAsync(), "PATCH /api/v1/spaces/{slug}/members/{admin}", ChangeMemberRoleCases[@case]);

    [Theory]
    [MemberData(nameof(UpdateUserCaseNames))]
    public async Task Update_user_rejects(string @case)
        => await ExpectCaseAsync(await ArrangeAsync(), "PATCH /api/v1/users/{target}", UpdateUserCases[@case]);

    [Theory]
    [MemberData(nameof(CreateUserCaseNames))]
    public async Task Create_user_rejects(string @case)
        => await ExpectCaseAsync(await ArrangeAsync(), "POST /api/v1/users", CreateUserCases[@case]);

    [Theory]
    [MemberData(nameof(CreateApiKeyCaseNames))]
    public async Task Create_api_key_rejects(string @case)
        => await ExpectCaseAsync(await ArrangeAsync(), "POST /api/v1/me/api-keys", CreateApiKeyCases[@case]);

    [Theory]
    [MemberData(nameof(BootstrapCaseNames))]
    public async Task Bootstrap_rejects(string @case)
        => await ExpectCaseAsync(await ArrangeAsync(), "POST /api/v1/bootstrap", BootstrapCases[@case]);

    public static TheoryData<string> BadSlugs() =>
    [
        "A", "UPPER", "Mixed-case", "has space", "-lead", "trail-", "double--hyphen", "x",
        new string('a', 64), "café", "日本語", "under_score", "dot.ted", "slash/ed", "ab\n", "ab\t",
    ];

    [Theory]
    [MemberData(nameof(BadSlugs))]
    public async Task Create_space_rejects_invalid_slug(string slug)
    {
        var a = await ArrangeAsync();
        var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["slug"] = slug, ["name"] = "Slug test" });
        try
        {
            await ExpectCaseAsync(a, "POST /api/v1/spaces", Exactly(body, "body.slug:slug_invalid"));
        }
        finally
        {
            await RemoveSpaceAsync(slug);
        }
    }

    [Theory]
    [MemberData(nameof(BadSlugs))]
    public async Task Update_space_rejects_invalid_slug(string slug)
    {
        var a = await ArrangeAsync();
        await EnsureSpaceAsync(a.Admin, "slug-target");
        var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["slug"] = slug });
        try
        {
            await ExpectCaseAsync(a, "PATCH /api/v1/spaces/slug-target", Exactly(body, "body.slug:slug_invalid"));
        }
        finally
        {
            await RemoveSpaceAsync(slug);
        }
    }

    [Theory]
    [InlineData("ff")]                 // never valid in UTF-8
    [InlineData("c0af")]               // overlong encoding of '/'
    [InlineData("eda080")]             // an encoded UTF-16 surrogate
    [InlineData("e282")]               // truncated multi-byte sequence
    public async Task Invalid_UTF8_in_a_string_is_422(string hex)
    {
        var a = await ArrangeAsync();
        var bytes = Encoding.UTF8.GetBytes("""{"slug":"utf8-test","name":"a""")
            .Concat(Convert.FromHexString(hex))
            .Concat(Encoding.UTF8.GetBytes("\"}"))
            .ToArray();
        var before = await SnapshotAsync();
        var response = await a.Admin.SendAsync("POST", "/api/v1/spaces", bytes, "application/json", null);
        var problem = AssertProblem(response, 422, "validation_failed");
        AssertErrors(problem, false, "body.name:string_unicode");
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task Boundary_values_are_accepted()
    {
        // The positive control: the limits above are exactly where the rules say, not one off.
        var a = await ArrangeAsync();
        var spaces = await app.Database.ScalarAsync<long>("SELECT count(*) FROM spaces");
        var twoChars = await a.Admin.SendRawAsync("POST", "/api/v1/spaces", """{"slug":"b2","name":"Two"}""");
        Assert.Equal(201, twoChars.Status);
        var longest = new string('b', 63);
        var max = await a.Admin.SendRawAsync("POST", "/api/v1/spaces",
            $$"""{"slug":"{{longest}}","name":"{{Long(200)}}","description":"{{Long(4000)}}"}""");
        Assert.Equal(201, max.Status);
        Assert.Equal(longest, max.Json.GetProperty("slug").GetString());
        Assert.Equal(spaces + 2, await app.Database.ScalarAsync<long>("SELECT count(*) FROM spaces"));
    }

    [Fact]
    public async Task Null_description_in_PATCH_clears_it_while_null_name_is_rejected()
    {
        var a = await ArrangeAsync();
        var slug = "clear-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(201, (await a.Admin.SendRawAsync("POST", "/api/v1/spaces",
            $$"""{"slug":"{{slug}}","name":"Clear me","description":"To be cleared"}""")).Status);

        await ExpectCaseAsync(a, $"PATCH /api/v1/spaces/{slug}", Exactly("""{"name":null}""", "body.name:null_forbidden"));

        var cleared = await a.Admin.SendRawAsync("PATCH", $"/api/v1/spaces/{slug}", """{"description":null}""");
        Assert.Equal(200, cleared.Status);
        Assert.Equal(JsonValueKind.Null, cleared.Json.GetProperty("description").ValueKind);
        Assert.Equal("Clear me", cleared.Json.GetProperty("name").GetString());
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM spaces WHERE slug = '{slug}' AND description IS NULL"));
    }

    [Fact]
    public async Task Expires_at_with_an_offset_is_accepted_and_emitted_in_UTC()
    {
        var a = await ArrangeAsync();
        var keys = await app.Database.ScalarAsync<long>("SELECT count(*) FROM api_keys");
        var created = await a.Admin.SendRawAsync("POST", "/api/v1/me/api-keys", """{"name":"expiring","expires_at":"2030-01-01T02:00:00+02:00"}""");
        Assert.True(created.Status == 201, created.ToString());
        Assert.Equal("2030-01-01T00:00:00.000000Z", created.Json.GetProperty("expires_at").GetString());
        Assert.Equal(keys + 1, await app.Database.ScalarAsync<long>("SELECT count(*) FROM api_keys"));
        var id = created.Json.GetProperty("id").GetGuid();
        Assert.True(await app.Database.ScalarAsync<bool>(
            $"SELECT expires_at = timestamptz '2030-01-01T00:00:00Z' FROM api_keys WHERE id = '{id}'"));
    }

    // ───────────────────────────── media type and size ─────────────────────────────

    public static TheoryData<string, string> UnsupportedMediaTypes()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in BodyEndpoints)
        foreach (var type in new[] { "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain; charset=utf-8" })
            data.Add(endpoint, type);
        return data;
    }

    [Theory]
    [MemberData(nameof(UnsupportedMediaTypes))]
    public async Task Non_JSON_content_type_is_415(string endpoint, string contentType)
    {
        var a = await ArrangeAsync();
        await ExpectAsync(() => SendAsync(a, endpoint, ValidBody(endpoint), contentType), 415, "unsupported_media_type");
    }

    public static TheoryData<string> AllBodyEndpoints()
    {
        var data = new TheoryData<string>();
        foreach (var endpoint in BodyEndpoints) data.Add(endpoint);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllBodyEndpoints))]
    public async Task Body_over_1_MiB_with_Content_Length_is_413(string endpoint)
    {
        var a = await ArrangeAsync();
        var body = PaddedBody("{\"name\":\"x\",\"description\":\"", Limit + 1);
        var problem = await ExpectAsync(() => SendAsync(a, endpoint, body), 413, "payload_too_large");
        Assert.Equal("Payload too large", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Body_of_exactly_1_MiB_is_read_and_validated_not_413()
    {
        var a = await ArrangeAsync();
        var body = PaddedBody("{\"slug\":\"exact-limit\",\"name\":\"x\",\"description\":\"", Limit);
        Assert.Equal(Limit, Encoding.UTF8.GetByteCount(body));
        await ExpectCaseAsync(a, "POST /api/v1/spaces", Exactly(body, "body.description:string_too_long"));
    }

    public static TheoryData<string> StreamableFunctions() => ["Spaces_Create", "Users_Create", "ApiKeys_Create", "Bootstrap"];

    [Theory]
    [MemberData(nameof(StreamableFunctions))]
    public async Task Body_over_1_MiB_streamed_without_Content_Length_is_413_and_reading_stops_early(string function)
    {
        var key = await StreamingKeyAsync();
        var stream = new EndlessJsonStream("{\"slug\":\"streamed\",\"email\":\"s@example.com\",\"token\":\"t\",\"display_name\":\"S\",\"name\":\"", 64L * Limit);
        var before = await SnapshotAsync();
        var response = await InvokeDirectAsync(function, stream, contentLength: null, function == "Bootstrap" ? null : key);
        AssertProblem(response, 413, "payload_too_large");
        Assert.True(stream.BytesRead <= Limit + 64 * 1024, $"read {stream.BytesRead} bytes of a body that was already too large");
        Assert.Equal(before, await SnapshotAsync());
    }

    [Theory]
    [MemberData(nameof(StreamableFunctions))]
    public async Task Declared_Content_Length_over_1_MiB_is_413_before_reading_the_body(string function)
    {
        var key = await StreamingKeyAsync();
        var stream = new EndlessJsonStream("{\"name\":\"", 2L * Limit);
        var before = await SnapshotAsync();
        var response = await InvokeDirectAsync(function, stream, contentLength: 2L * Limit, function == "Bootstrap" ? null : key);
        AssertProblem(response, 413, "payload_too_large");
        Assert.Equal(0, stream.BytesRead);
        Assert.Equal(before, await SnapshotAsync());
    }

    // ───────────────────────────── query strings ─────────────────────────────

    private static readonly string[] PagedEndpoints = ["/api/v1/spaces", "/api/v1/users", "/api/v1/me/api-keys", "/api/v1/spaces/{slug}/members"];

    private static readonly Dictionary<string, Case> PagingCases = new(StringComparer.Ordinal)
    {
        ["page=0"] = Exactly(null, "query.page:greater_than_equal"),
        ["page=-1"] = Exactly(null, "query.page:greater_than_equal"),
        ["page=abc"] = Exactly(null, "query.page:int_parsing"),
        ["page=1.5"] = Exactly(null, "query.page:int_parsing"),
        ["page=99999999999"] = Exactly(null, "query.page:int_parsing"),
        ["page=%20"] = Exactly(null, "query.page:int_parsing"),
        ["size=0"] = Exactly(null, "query.size:greater_than_equal"),
        ["size=-5"] = Exactly(null, "query.size:greater_than_equal"),
        ["size=101"] = Exactly(null, "query.size:less_than_equal"),
        ["size=1000"] = Exactly(null, "query.size:less_than_equal"),
        ["size=ten"] = Exactly(null, "query.size:int_parsing"),
        ["page=1&page=2"] = Exactly(null, "query.page:duplicate_parameter"),
        ["size=10&size=10"] = Exactly(null, "query.size:duplicate_parameter"),
        ["page=0&size=0"] = Exactly(null, "query.page:greater_than_equal", "query.size:greater_than_equal"),
    };

    public static TheoryData<string, string> PagingMatrix()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in PagedEndpoints)
        foreach (var query in PagingCases.Keys)
            data.Add(endpoint, query);
        return data;
    }

    [Theory]
    [MemberData(nameof(PagingMatrix))]
    public async Task Invalid_paging_is_422_in_the_query(string endpoint, string query)
        => await ExpectCaseAsync(await ArrangeAsync(), $"GET {endpoint}?{query}", PagingCases[query]);

    [Theory]
    [InlineData("/api/v1/users?search={long}", "query.search:string_too_long")]
    [InlineData("/api/v1/users?search=a&search=b", "query.search:duplicate_parameter")]
    [InlineData("/api/v1/users?search=%00", "query.search:*")]
    [InlineData("/api/v1/me/api-keys?user_id=abc", "query.user_id:uuid_parsing")]
    [InlineData("/api/v1/me/api-keys?include_revoked=maybe", "query.include_revoked:bool_parsing")]
    [InlineData("/api/v1/me/api-keys?include_revoked=1&include_revoked=0", "query.include_revoked:duplicate_parameter")]
    public async Task Invalid_filters_are_422_in_the_query(string pathAndQuery, string error)
        => await ExpectCaseAsync(await ArrangeAsync(), "GET " + pathAndQuery.Replace("{long}", Long(201, 's'), StringComparison.Ordinal), Exactly(null, error));

    public static TheoryData<string> PagedEndpointNames() => [.. PagedEndpoints];

    [Theory]
    [MemberData(nameof(PagedEndpointNames))]
    public async Task Huge_page_number_is_an_empty_page_not_a_500(string endpoint)
    {
        // page and size are each in range; (page - 1) * size must not overflow into a negative OFFSET.
        var a = await ArrangeAsync();
        var response = await a.Admin.GetAsync(Expand(endpoint, a) + "?page=2147483647&size=100");
        Assert.True(response.Status == 200, response.ToString());
        Assert.Equal(0, response.Json.GetProperty("items").GetArrayLength());
    }

    // ───────────────────────────── headers ─────────────────────────────

    public static TheoryData<string, string> MalformedIfMatch()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in new[] { "PATCH /api/v1/spaces/etag-target", "DELETE /api/v1/spaces/etag-target", "PATCH /api/v1/users/{target}" })
        foreach (var value in new[] { "abc", "\"abc\"", "\"-1\"", "\"1.5\"", "W/\"x\"", "\"99999999999\"", "\"\"", "W/", "0x10" })
            data.Add(endpoint, value);
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedIfMatch))]
    public async Task Malformed_If_Match_is_422_in_the_header(string endpoint, string ifMatch)
    {
        var a = await ArrangeAsync();
        await EnsureSpaceAsync(a.Admin, "etag-target");
        var body = endpoint.StartsWith("DELETE", StringComparison.Ordinal) ? null
            : endpoint.Contains("/users/", StringComparison.Ordinal) ? """{"display_name":"Changed"}""" : """{"name":"Changed"}""";
        await ExpectCaseAsync(a, endpoint, Exactly(body, "header.If-Match:etag_invalid"), new Dictionary<string, string> { ["If-Match"] = ifMatch });
    }

    [Theory]
    [InlineData("")]
    [InlineData("Basic YWRtaW46YWRtaW4=")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Bearer qk_short")]
    [InlineData("Bearer qk_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    [InlineData("Bearer qk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("Bearer qk_éééééééééééééééééééééééééééééééé")]
    [InlineData("Bearer a.b.c")]
    [InlineData("Bearer {long}")]
    public async Task Missing_or_invalid_credentials_are_401(string authorization)
    {
        await ArrangeAsync();
        var headers = new Dictionary<string, string> { ["Authorization"] = authorization.Replace("{long}", Long(10_000, 'a'), StringComparison.Ordinal) };
        var response = await ExpectAsync(
            () => app.Anonymous().SendRawAsync("POST", "/api/v1/spaces", """{"slug":"unauthenticated","name":"X"}""", headers: headers),
            401, "unauthorized");
        Assert.Equal(JsonValueKind.String, response.GetProperty("detail").ValueKind);
    }

    [Fact]
    public async Task Wrong_bootstrap_token_is_403_and_a_second_bootstrap_is_409()
    {
        await ArrangeAsync();
        await ExpectAsync(() => app.Anonymous().SendRawAsync("POST", "/api/v1/bootstrap",
            """{"token":"wrong-token","email":"intruder@example.com","display_name":"Intruder"}"""), 403, "forbidden");
        await ExpectAsync(() => app.Anonymous().SendRawAsync("POST", "/api/v1/bootstrap",
            $$"""{"token":"{{AppFixture.BootstrapToken}}","email":"second@example.com","display_name":"Second"}"""), 409, "already_bootstrapped");
    }

    // ───────────────────────────── routes ─────────────────────────────

    [Theory]
    [InlineData("DELETE", "/api/v1/me/api-keys/not-a-uuid", null)]
    [InlineData("DELETE", "/api/v1/me/api-keys/123", null)]
    [InlineData("DELETE", "/api/v1/me/api-keys/{random-uuid}", null)]
    [InlineData("GET", "/api/v1/users/123", null)]
    [InlineData("GET", "/api/v1/users/not-a-uuid", null)]
    [InlineData("GET", "/api/v1/users/{random-uuid}", null)]
    [InlineData("PATCH", "/api/v1/users/not-a-uuid", """{"display_name":"X"}""")]
    [InlineData("PATCH", "/api/v1/spaces/{slug}/members/not-a-uuid", """{"role":"viewer"}""")]
    [InlineData("DELETE", "/api/v1/spaces/{slug}/members/not-a-uuid", null)]
    [InlineData("GET", "/api/v1/spaces/no-such-space", null)]
    [InlineData("PATCH", "/api/v1/spaces/no-such-space", """{"name":"X"}""")]
    [InlineData("DELETE", "/api/v1/spaces/no-such-space", null)]
    [InlineData("POST", "/api/v1/spaces/no-such-space/members", """{"user_id":"{target}","role":"viewer"}""")]
    public async Task Non_UUID_route_ids_and_unknown_resources_are_404(string method, string path, string? body)
    {
        var a = await ArrangeAsync();
        await ExpectAsync(() => SendAsync(a, method + " " + path, body), 404, "not_found");
    }

    [Theory]
    [InlineData("GET", "/api/v1/nope")]
    [InlineData("GET", "/api/v2/spaces")]
    [InlineData("GET", "/api/v1/spaces/bad-input/members/x/y")]
    [InlineData("POST", "/api/v1/spaces/bad-input/widgets")]
    [InlineData("GET", "/v1/spaces")]
    public async Task Unknown_route_is_404(string method, string path)
    {
        // Answered by the Functions host before any app code runs, so there is no problem body to check.
        var a = await ArrangeAsync();
        var before = await SnapshotAsync();
        var response = await SendAsync(a, method + " " + path, """{"slug":"route-test","name":"X"}""");
        Assert.Equal(404, response.Status);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Theory]
    [InlineData("PUT", "/api/v1/spaces")]
    [InlineData("DELETE", "/api/v1/spaces")]
    [InlineData("PUT", "/api/v1/spaces/bad-input")]
    [InlineData("POST", "/api/v1/spaces/bad-input")]
    [InlineData("POST", "/api/v1/me")]
    [InlineData("DELETE", "/api/v1/users")]
    [InlineData("GET", "/api/v1/bootstrap")]
    public async Task Wrong_method_on_a_known_route_is_404_as_the_host_answers(string method, string path)
    {
        var a = await ArrangeAsync();
        var before = await SnapshotAsync();
        var response = await SendAsync(a, method + " " + path, """{"slug":"method-test","name":"X"}""");
        Assert.Equal(404, response.Status);
        Assert.Equal(before, await SnapshotAsync());
    }

    // ───────────────────────────── machinery ─────────────────────────────

    private sealed record Arranged(ApiClient Admin, Guid AdminId, Guid TargetId);

    /// <summary>The superadmin, the shared space and a user who is not a member of it (created once per fixture).</summary>
    private async Task<Arranged> ArrangeAsync()
    {
        var admin = await app.AdminAsync();
        await EnsureSpaceAsync(admin, Slug);
        if (await app.Database.ScalarAsync<long>("SELECT count(*) FROM users WHERE email = 'target@example.com'") == 0)
        {
            var created = await admin.SendRawAsync("POST", "/api/v1/users", """{"email":"target@example.com","display_name":"Target"}""");
            Assert.True(created.Status == 201, created.ToString());
        }
        // The first use of a key stamps last_used_at; do it here, outside any before/after comparison.
        Assert.Equal(200, (await admin.GetAsync("/api/v1/me")).Status);
        return new Arranged(
            admin,
            await app.Database.ScalarAsync<Guid>("SELECT id FROM users WHERE email = 'root@example.com'"),
            await app.Database.ScalarAsync<Guid>("SELECT id FROM users WHERE email = 'target@example.com'"));
    }

    private static async Task EnsureSpaceAsync(ApiClient admin, string slug)
    {
        if ((await admin.GetAsync($"/api/v1/spaces/{slug}")).Status != 404) return;
        var created = await admin.SendRawAsync("POST", "/api/v1/spaces", $$"""{"slug":"{{slug}}","name":"Space {{slug}}","description":"Original"}""");
        Assert.True(created.Status == 201, created.ToString());
    }

    /// <summary>Removes a space a buggy check let through, so one failure does not cascade into other cases.</summary>
    private Task<int> RemoveSpaceAsync(string slug)
        => app.WithDbAsync(db => db.Spaces.Where(s => s.Slug == slug).ExecuteDeleteAsync());

    private string? _streamingKey;

    /// <summary>A superadmin's raw API key, for requests built by hand.</summary>
    private async Task<string> StreamingKeyAsync()
    {
        await ArrangeAsync();
        return _streamingKey ??= (await app.CreateUserAsync("Streamer", superadmin: true)).ApiKey;
    }

    private static string Expand(string text, Arranged a) => text
        .Replace("{slug}", Slug, StringComparison.Ordinal)
        .Replace("{admin}", a.AdminId.ToString(), StringComparison.Ordinal)
        .Replace("{target}", a.TargetId.ToString(), StringComparison.Ordinal)
        .Replace("{random-uuid}", Guid.NewGuid().ToString(), StringComparison.Ordinal)
        .Replace("{random}", Guid.NewGuid().ToString("N")[..10], StringComparison.Ordinal);

    /// <summary>Sends <paramref name="body"/> (null: no body at all) to "METHOD /path"; bootstrap goes anonymously.</summary>
    private Task<ApiResponse> SendAsync(Arranged a, string endpoint, string? body, string contentType = "application/json", IDictionary<string, string>? headers = null)
    {
        var space = endpoint.IndexOf(' ', StringComparison.Ordinal);
        var method = endpoint[..space];
        var path = Expand(endpoint[(space + 1)..], a);
        var client = path == "/api/v1/bootstrap" ? app.Anonymous() : a.Admin;
        return body is null
            ? client.SendAsync(method, path, null, null, headers)
            : client.SendAsync(method, path, Encoding.UTF8.GetBytes(Expand(body, a)), contentType, headers);
    }

    private async Task ExpectCaseAsync(Arranged a, string endpoint, Case @case, IDictionary<string, string>? headers = null)
    {
        var problem = await ExpectAsync(() => SendAsync(a, endpoint, @case.Body, headers: headers), 422, "validation_failed");
        AssertErrors(problem, @case.Exact, @case.Errors);
    }

    /// <summary>Sends, then checks the status, the problem body, and that no table changed.</summary>
    private async Task<JsonElement> ExpectAsync(Func<Task<ApiResponse>> send, int status, string code)
    {
        var before = await SnapshotAsync();
        var response = await send();
        var after = await SnapshotAsync();
        Assert.True(response.Status == status,
            $"expected {status}, got {response}{(before == after ? "" : " — and the database changed")}");
        var problem = AssertProblem(response, status, code);
        Assert.Equal(before, after);
        return problem;
    }

    private static JsonElement AssertProblem(ApiResponse response, int status, string code)
    {
        Assert.True(response.Status == status, $"expected {status}, got {response}");
        Assert.StartsWith("application/problem+json", response.Header("Content-Type") ?? "", StringComparison.Ordinal);
        var problem = response.Json;
        Assert.Equal(JsonValueKind.Object, problem.ValueKind);
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.Equal(JsonValueKind.String, problem.GetProperty("detail").ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.StartsWith("urn:qarion:problem:", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        if (status == 422)
        {
            var errors = problem.GetProperty("errors");
            Assert.Equal(JsonValueKind.Array, errors.ValueKind);
            Assert.True(errors.GetArrayLength() > 0, "a 422 lists at least one error");
            foreach (var error in errors.EnumerateArray())
            {
                Assert.Equal(JsonValueKind.Array, error.GetProperty("loc").ValueKind);
                Assert.True(error.GetProperty("loc").GetArrayLength() > 0, "loc is never empty");
                Assert.Equal(JsonValueKind.String, error.GetProperty("msg").ValueKind);
                Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
            }
        }
        return problem;
    }

    /// <summary>Each expected <c>loc:type</c> (dot-separated loc, <c>*</c> wildcards) is present; with <paramref name="exact"/>, nothing else is.</summary>
    private static void AssertErrors(JsonElement problem, bool exact, params string[] expected)
    {
        var actual = problem.GetProperty("errors").EnumerateArray()
            .Select(e => (Loc: e.GetProperty("loc").EnumerateArray()
                    .Select(p => p.ValueKind == JsonValueKind.Number ? p.GetRawText() : p.GetString()!).ToArray(),
                Type: e.GetProperty("type").GetString()!))
            .ToList();
        var described = string.Join(", ", actual.Select(e => string.Join('.', e.Loc) + ":" + e.Type));
        foreach (var spec in expected)
        {
            var colon = spec.LastIndexOf(':');
            var loc = spec[..colon].Split('.');
            var type = spec[(colon + 1)..];
            Assert.True(
                actual.Any(e => e.Loc.Length == loc.Length
                                && e.Loc.Zip(loc).All(p => p.Second == "*" || p.First == p.Second)
                                && (type == "*" || e.Type == type)),
                $"expected an error {spec}; got [{described}]");
        }
        if (exact) Assert.True(actual.Count == expected.Length, $"expected exactly [{string.Join(", ", expected)}]; got [{described}]");
    }

    /// <summary>Row counts and row versions of every table (api_keys without last_used_at, which authentication stamps).</summary>
    private Task<string> SnapshotAsync() => app.Database.ScalarAsync<string>("""
        SELECT concat_ws(' | ',
          'spaces=' || (SELECT count(*) FROM spaces),
          (SELECT string_agg(id::text || '@' || xmin::text, ',' ORDER BY id) FROM spaces),
          'users=' || (SELECT count(*) FROM users),
          (SELECT string_agg(id::text || '@' || xmin::text, ',' ORDER BY id) FROM users),
          'space_memberships=' || (SELECT count(*) FROM space_memberships),
          (SELECT string_agg(id::text || '@' || xmin::text, ',' ORDER BY id) FROM space_memberships),
          'api_keys=' || (SELECT count(*) FROM api_keys),
          (SELECT string_agg(id::text || '@' || coalesce(revoked_at::text, '-'), ',' ORDER BY id) FROM api_keys))
        """);

    /// <summary>A JSON object of exactly <paramref name="bytes"/> bytes: <paramref name="prefix"/>, filler, <c>"}</c>.</summary>
    private static string PaddedBody(string prefix, int bytes) => prefix + new string('p', bytes - prefix.Length - 2) + "\"}";

    /// <summary>
    /// Invokes one HTTP function with a hand-built request whose body is a stream (optionally without
    /// Content-Length, as a chunked upload arrives), through the app's real middleware.
    /// </summary>
    private async Task<ApiResponse> InvokeDirectAsync(string functionName, Stream body, long? contentLength, string? apiKey)
    {
        var function = FunctionMetadataEntry.Load().Single(f => f.Name == functionName);
        var trigger = function.Trigger!.Value;
        var dot = function.EntryPoint.LastIndexOf('.');
        var method = typeof(QarionMiddleware).Assembly.GetType(function.EntryPoint[..dot], throwOnError: true)!
            .GetMethod(function.EntryPoint[(dot + 1)..])!;

        await using var scope = app.Services.CreateAsyncScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        http.Request.Method = "POST";
        http.Request.Scheme = "http";
        http.Request.Host = new HostString("127.0.0.1:7071");
        http.Request.Path = "/api/" + trigger.GetProperty("route").GetString();
        http.Request.ContentType = "application/json";
        http.Request.Body = body;
        http.Request.ContentLength = contentLength;
        if (apiKey is not null) http.Request.Headers.Authorization = "Bearer " + apiKey;
        var responseBody = new MemoryStream();
        http.Response.Body = responseBody;

        var context = new TestFunctionContext(scope.ServiceProvider,
            new TestFunctionDefinition(function.Name, function.EntryPoint, function.ScriptFile), new Dictionary<string, object?>(), CancellationToken.None);
        context.Items["HttpRequestContext"] = http;
        object? result = null;
        await new QarionMiddleware().Invoke(context, async _ =>
        {
            var instance = ActivatorUtilities.CreateInstance(scope.ServiceProvider, method.DeclaringType!);
            var task = (Task)method.Invoke(instance, [http.Request, CancellationToken.None])!;
            await task;
            result = task.GetType().GetProperty("Result")?.GetValue(task);
        });
        if (result is IActionResult action)
            await action.ExecuteResultAsync(new ActionContext(http, new RouteData(), new ActionDescriptor()));
        return new ApiResponse(
            http.Response.StatusCode,
            http.Response.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            Encoding.UTF8.GetString(responseBody.ToArray()));
    }

    /// <summary>A non-seekable body of <paramref name="total"/> bytes: a JSON prefix, then an unterminated string, served in small chunks.</summary>
    private sealed class EndlessJsonStream(string prefix, long total) : Stream
    {
        private readonly byte[] _prefix = Encoding.UTF8.GetBytes(prefix);

        public long BytesRead { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(Math.Min(buffer.Length, 4096), total - BytesRead);
            for (var i = 0; i < n; i++)
            {
                var position = BytesRead + i;
                buffer[i] = position < _prefix.Length ? _prefix[position] : (byte)'s';
            }
            BytesRead += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
