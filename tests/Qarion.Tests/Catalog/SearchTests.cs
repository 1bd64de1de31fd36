using System.Text.Json;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Catalog;

/// <summary>Relevance on a fixed corpus, built once for the class.</summary>
public sealed class SearchTests(SearchTests.Corpus corpus) : IClassFixture<SearchTests.Corpus>
{
    public sealed class Corpus : AppFixture
    {
        public TestUser Viewer { get; private set; } = null!;
        public TestUser Both { get; private set; } = null!;
        public string Space { get; private set; } = null!;
        public string Other { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            var editor = await CreateUserAsync("Editor");
            Viewer = await CreateUserAsync("Viewer");
            Both = await CreateUserAsync("Both");
            Space = await CreateSpaceAsync("search-main", (editor, "editor"), (Viewer, "viewer"), (Both, "viewer"));
            Other = await CreateSpaceAsync("search-other", (editor, "editor"), (Both, "viewer"));
            var c = editor.Client;
            await c.CreateProductAsync(Space, "customer", new
            {
                name = "customer", description = "Master record of every person who bought something", tags = new[] { "pii" },
                fields = new object[] { new { name = "customer_id" }, new { name = "email_address", description = "Where receipts are sent" } },
            });
            await c.CreateProductAsync(Space, "customer-orders", new
            {
                name = "customer_orders", description = "Orders joined with the customer who placed them", tags = new[] { "sales" },
                fields = new object[] { new { name = "order_id" }, new { name = "customer_id" } },
            });
            await c.CreateProductAsync(Space, "dim-customers", new { name = "dim_customers", description = "Customer dimension for the warehouse" });
            await c.CreateProductAsync(Space, "orders", new
            {
                name = "orders", description = "All sales orders", tags = new[] { "sales" },
                fields = new object[] { new { name = "order_id" }, new { name = "total_amount" } },
            });
            await c.CreateProductAsync(Space, "payments", new
            {
                name = "payments", description = "Card transactions settled through Stripe", tags = new[] { "finance" },
                fields = new object[] { new { name = "amount_cents", data_type = "bigint", description = "Settled value in cents" } },
            });
            await c.CreateProductAsync(Space, "archived-customer", new { name = "old_customer", description = "Legacy" });
            await c.PostAsync($"/api/v1/spaces/{Space}/products/archived-customer/archive", new { });
            await c.CreateProductAsync(Other, "customer", new
            {
                name = "customer", description = "Confidential customers of the other tenant, via Stripe", tags = new[] { "pii", "finance" },
                fields = new object[] { new { name = "amount_cents" }, new { name = "secret_customer_score" } },
            });
        }
    }

    private string Url(string q, string extra = "") => $"/api/v1/spaces/{corpus.Space}/search?q={Uri.EscapeDataString(q)}{extra}";

    private async Task<JsonElement> SearchAsync(string q, string extra = "")
    {
        var r = await corpus.Viewer.Client.GetAsync(Url(q, extra));
        Assert.True(r.Status == 200, r.ToString());
        return r.Json.Clone();
    }

    private static List<string> Products(JsonElement r) => r.GetProperty("products").EnumerateArray().Select(p => p.Str("slug")).ToList();

    [Fact]
    public async Task Exact_name_comes_first_with_highlights()
    {
        var r = await SearchAsync("customer");
        var products = Products(r);
        Assert.Equal("customer", products[0]);
        Assert.Contains("customer-orders", products);
        Assert.Contains("dim-customers", products);
        Assert.DoesNotContain("archived-customer", products);
        Assert.DoesNotContain("payments", products);
        var first = r.GetProperty("products")[0];
        Assert.Equal("<mark>customer</mark>", first.Str("name_highlight"));
        Assert.Contains("<mark>", r.GetProperty("products")[1].Str("name_highlight"));
        Assert.True(first.GetProperty("score").GetDouble() > r.GetProperty("products")[1].GetProperty("score").GetDouble());
        Assert.Equal(Guid.Parse(first.GetProperty("id").GetString()!), first.Id());
        Assert.Equal("table", first.Str("product_type"));
        Assert.Equal("customer", r.Str("query"));
    }

    [Fact]
    public async Task A_typo_still_finds_the_product()
    {
        var products = Products(await SearchAsync("custmer"));
        Assert.NotEmpty(products);
        Assert.Equal("customer", products[0]);
        Assert.Equal("payments", Products(await SearchAsync("paymets"))[0]);
    }

    [Fact]
    public async Task A_word_only_in_a_description_finds_its_product_with_a_snippet()
    {
        var r = await SearchAsync("stripe");
        Assert.Equal(["payments"], Products(r));
        Assert.Contains("<mark>Stripe</mark>", r.GetProperty("products")[0].Str("snippet"));
        Assert.Equal(["customer"], Products(await SearchAsync("bought"))); // stemmed prose
    }

    [Fact]
    public async Task Field_names_return_the_field_with_its_product()
    {
        var r = await SearchAsync("amount_cents");
        var field = r.GetProperty("fields")[0];
        Assert.Equal("amount_cents", field.Str("name"));
        Assert.Equal("bigint", field.Str("data_type"));
        Assert.Equal("payments", field.Str("product_slug"));
        Assert.Equal("payments", field.Str("product_name"));
        // Only this space's amount_cents (the other space has one too); fuzzier matches may follow, ranked lower.
        Assert.Single(r.GetProperty("fields").EnumerateArray(), f => f.Str("name") == "amount_cents");
        Assert.All(r.GetProperty("fields").EnumerateArray().Skip(1), f => Assert.True(f.GetProperty("score").GetDouble() < field.GetProperty("score").GetDouble()));
        var ids = (await SearchAsync("customer_id", "&types=fields")).GetProperty("fields").EnumerateArray().Select(f => f.Str("product_slug")).Order().ToList();
        Assert.Equal(["customer", "customer-orders"], ids);
        var byDescription = await SearchAsync("receipts", "&types=fields");
        Assert.Equal("email_address", byDescription.GetProperty("fields")[0].Str("name"));
        Assert.Contains("<mark>", byDescription.GetProperty("fields")[0].Str("snippet"));
    }

    [Fact]
    public async Task Tags_are_searched_by_name_with_usage_and_find_their_products()
    {
        var r = await SearchAsync("sales");
        var tag = Assert.Single(r.GetProperty("tags").EnumerateArray());
        Assert.Equal("sales", tag.Str("name"));
        Assert.Equal(2, tag.GetProperty("usage_count").GetInt32());
        Assert.Contains("customer-orders", Products(r));
        Assert.Contains("orders", Products(r));
        var finance = await SearchAsync("finance");
        Assert.Equal(1, finance.GetProperty("tags")[0].GetProperty("usage_count").GetInt32()); // not counting the other space
        Assert.Equal(["payments"], Products(finance));
    }

    [Fact]
    public async Task Limit_and_types_narrow_the_result()
    {
        var limited = await SearchAsync("customer", "&limit=1");
        Assert.Equal(["customer"], Products(limited));
        var onlyTags = await SearchAsync("sales", "&types=tags");
        Assert.Empty(onlyTags.GetProperty("products").EnumerateArray());
        Assert.Empty(onlyTags.GetProperty("fields").EnumerateArray());
        Assert.Single(onlyTags.GetProperty("tags").EnumerateArray());
        var two = await SearchAsync("order", "&types=products,fields");
        Assert.NotEmpty(two.GetProperty("products").EnumerateArray());
        Assert.NotEmpty(two.GetProperty("fields").EnumerateArray());
        Assert.Empty(two.GetProperty("tags").EnumerateArray());
    }

    [Fact]
    public async Task Nothing_comes_from_another_space()
    {
        var r = await SearchAsync("secret_customer_score");
        Assert.Empty(r.GetProperty("fields").EnumerateArray());
        Assert.Empty(r.GetProperty("products").EnumerateArray());
        var confidential = await SearchAsync("confidential");
        Assert.Empty(confidential.GetProperty("products").EnumerateArray());
        var customer = await SearchAsync("customer");
        Assert.DoesNotContain("Confidential", customer.ToString(), StringComparison.Ordinal);
        // A member of both sees each space's own results only.
        var other = await corpus.Both.Client.GetAsync($"/api/v1/spaces/{corpus.Other}/search?q=orders");
        Assert.Equal(200, other.Status);
        Assert.Empty(other.Json.GetProperty("products").EnumerateArray());
        Assert.Empty(other.Json.GetProperty("fields").EnumerateArray());
        // The viewer is not a member of the other space.
        Assert.Equal(404, (await corpus.Viewer.Client.GetAsync($"/api/v1/spaces/{corpus.Other}/search?q=customer")).Status);
    }

    [Fact]
    public async Task Bad_parameters_are_422()
    {
        foreach (var url in new[]
                 {
                     $"/api/v1/spaces/{corpus.Space}/search",
                     $"/api/v1/spaces/{corpus.Space}/search?q=",
                     $"/api/v1/spaces/{corpus.Space}/search?q=%20%20",
                     Url(new string('a', 201)),
                     Url("customer", "&limit=0"),
                     Url("customer", "&limit=51"),
                     Url("customer", "&limit=ten"),
                     Url("customer", "&types=people"),
                 })
        {
            var r = await corpus.Viewer.Client.GetAsync(url);
            Assert.True(r.Status == 422, $"{url}: {r}");
        }
        Assert.Equal(200, (await corpus.Viewer.Client.GetAsync(Url(new string('a', 200)))).Status);
        // Query syntax characters are data, never a 500.
        foreach (var q in new[] { "\"unbalanced", "a & | ! b", "%_\\", "(customer", "-", "'; DROP TABLE tags; --" })
            Assert.Equal(200, (await corpus.Viewer.Client.GetAsync(Url(q))).Status);
    }
}
