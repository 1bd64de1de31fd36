using System.Text.Json;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Catalog;

public sealed class LineageTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<(TestUser Editor, TestUser Viewer, string Space)> SpaceAsync()
    {
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (editor, "editor"), (viewer, "viewer"));
        return (editor, viewer, space);
    }

    private static string Up(string space, string product) => $"/api/v1/spaces/{space}/products/{product}/lineage/upstream";

    private static List<string> NodeSlugs(ApiResponse r)
    {
        Assert.True(r.Status == 200, r.ToString());
        return r.Json.GetProperty("nodes").EnumerateArray().Select(n => n.Str("slug")).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>a → b → c → d; returns slug → id.</summary>
    private static async Task<Dictionary<string, Guid>> ChainAsync(TestUser editor, string space, params string[] slugs)
    {
        var ids = new Dictionary<string, Guid>();
        foreach (var slug in slugs) ids[slug] = (await editor.Client.CreateProductAsync(space, slug, new { name = "Product " + slug })).Id();
        for (var i = 1; i < slugs.Length; i++)
        {
            var edge = await editor.Client.PostAsync(Up(space, slugs[i]), new { upstream_id = ids[slugs[i - 1]] });
            Assert.True(edge.Status == 201, edge.ToString());
        }
        return ids;
    }

    [Fact]
    public async Task Edges_are_added_and_removed_with_every_error()
    {
        var (editor, viewer, space) = await SpaceAsync();
        var src = (await editor.Client.CreateProductAsync(space, "src")).Id();
        var dst = (await editor.Client.CreateProductAsync(space, "dst")).Id();

        var added = await editor.Client.PostAsync(Up(space, "dst"), new { upstream_id = src, relationship = "joins" });
        Assert.Equal(201, added.Status);
        Assert.Equal(src, added.Json.GetProperty("upstream_id").GetGuid());
        Assert.Equal(dst, added.Json.GetProperty("downstream_id").GetGuid());
        Assert.Equal("joins", added.Json.Str("relationship"));
        Assert.Equal($"/api/v1/spaces/{space}/products/dst/lineage/upstream/{src}", added.Header("Location"));

        var duplicate = await editor.Client.PostAsync(Up(space, "dst"), new { upstream_id = src });
        Assert.Equal(409, duplicate.Status);
        Assert.Equal("duplicate", duplicate.Code());
        var self = await editor.Client.PostAsync(Up(space, "dst"), new { upstream_id = dst });
        Assert.Equal("self_edge", self.ErrorType());
        Assert.Equal("body.upstream_id", self.Loc());
        Assert.Equal("not_found", (await editor.Client.PostAsync(Up(space, "dst"), new { upstream_id = Guid.NewGuid() })).ErrorType());
        Assert.Equal(422, (await editor.Client.PostAsync(Up(space, "dst"), new { upstream_id = src, relationship = "copies" })).Status);
        Assert.Equal(403, (await viewer.Client.PostAsync(Up(space, "src"), new { upstream_id = dst })).Status);
        Assert.Equal(404, (await editor.Client.PostAsync(Up(space, "nope"), new { upstream_id = src })).Status);

        // The reverse edge is allowed (a cycle).
        Assert.Equal(201, (await editor.Client.PostAsync(Up(space, "src"), new { upstream_id = dst })).Status);

        Assert.Equal(403, (await viewer.Client.DeleteAsync($"{Up(space, "dst")}/{src}")).Status);
        Assert.Equal(204, (await editor.Client.DeleteAsync($"{Up(space, "dst")}/{src}")).Status);
        Assert.Equal(404, (await editor.Client.DeleteAsync($"{Up(space, "dst")}/{src}")).Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM lineage_edges WHERE downstream_id = '{dst}'"));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM lineage_edges WHERE downstream_id = '{src}'"));
    }

    [Fact]
    public async Task Put_replaces_all_upstreams_atomically()
    {
        var (editor, viewer, space) = await SpaceAsync();
        var ids = new Dictionary<string, Guid>();
        foreach (var s in new[] { "u1", "u2", "u3", "target" }) ids[s] = (await editor.Client.CreateProductAsync(space, s)).Id();
        var url = Up(space, "target");

        var first = await editor.Client.PutAsync(url, new { upstream = new object[] { new { upstream_id = ids["u1"] }, new { upstream_id = ids["u2"], relationship = "consumes" } } });
        Assert.Equal(200, first.Status);
        Assert.Equal(new[] { ids["u1"], ids["u2"] }.Order(), first.Json.EnumerateArray().Select(e => e.GetProperty("upstream_id").GetGuid()).Order());

        async Task<List<Guid>> Current() => (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/target/lineage?direction=upstream&depth=1"))
            .Json.GetProperty("edges").EnumerateArray().Select(e => e.GetProperty("upstream_id").GetGuid()).Order().ToList();

        var invalid = await editor.Client.PutAsync(url, new { upstream = new object[] { new { upstream_id = ids["u3"] }, new { upstream_id = Guid.NewGuid() } } });
        Assert.Equal("not_found", invalid.ErrorType());
        Assert.Equal("body.upstream.1.upstream_id", invalid.Loc());
        Assert.Equal(new[] { ids["u1"], ids["u2"] }.Order().ToList(), await Current());

        var selfIn = await editor.Client.PutAsync(url, new { upstream = new object[] { new { upstream_id = ids["u3"] }, new { upstream_id = ids["target"] } } });
        Assert.Equal("self_edge", selfIn.ErrorType());
        var twice = await editor.Client.PutAsync(url, new { upstream = new object[] { new { upstream_id = ids["u3"] }, new { upstream_id = ids["u3"] } } });
        Assert.Equal("duplicate", twice.ErrorType());
        Assert.Equal(new[] { ids["u1"], ids["u2"] }.Order().ToList(), await Current());
        Assert.Equal(403, (await viewer.Client.PutAsync(url, new { upstream = Array.Empty<object>() })).Status);

        var replaced = await editor.Client.PutAsync(url, new { upstream = new object[] { new { upstream_id = ids["u2"] }, new { upstream_id = ids["u3"] } } });
        Assert.Equal(200, replaced.Status);
        Assert.Equal(new[] { ids["u2"], ids["u3"] }.Order().ToList(), await Current());
        var u2 = replaced.Json.EnumerateArray().Single(e => e.GetProperty("upstream_id").GetGuid() == ids["u2"]);
        Assert.Equal("transforms", u2.Str("relationship"));

        Assert.Empty((await editor.Client.PutAsync(url, new { upstream = Array.Empty<object>() })).Json.EnumerateArray());
        Assert.Empty(await Current());
    }

    [Fact]
    public async Task Traversal_follows_direction_and_depth_on_a_chain()
    {
        var (editor, viewer, space) = await SpaceAsync();
        var ids = await ChainAsync(editor, space, "aa", "bb", "cc", "dd");
        string T(string p, string q) => $"/api/v1/spaces/{space}/products/{p}/lineage?{q}";

        Assert.Equal(["aa", "bb"], NodeSlugs(await viewer.Client.GetAsync(T("bb", "direction=upstream&depth=1"))));
        Assert.Equal(["bb", "cc"], NodeSlugs(await viewer.Client.GetAsync(T("bb", "direction=downstream&depth=1"))));
        Assert.Equal(["bb", "cc", "dd"], NodeSlugs(await viewer.Client.GetAsync(T("bb", "direction=downstream&depth=2"))));
        Assert.Equal(["aa", "bb", "cc", "dd"], NodeSlugs(await viewer.Client.GetAsync(T("bb", "direction=both&depth=2"))));
        Assert.Equal(["aa", "bb", "cc", "dd"], NodeSlugs(await viewer.Client.GetAsync(T("bb", "")))); // both, depth 3 by default
        var fromD = await viewer.Client.GetAsync(T("dd", "direction=upstream&depth=50"));
        Assert.Equal(["aa", "bb", "cc", "dd"], NodeSlugs(fromD));
        Assert.Equal([ids["dd"]], fromD.Json.GetProperty("roots").EnumerateArray().Select(r => r.GetGuid()));
        Assert.Equal(3, fromD.Json.GetProperty("edges").GetArrayLength());
        var depths = fromD.Json.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.Str("slug"), n => n.GetProperty("upstream_depth").GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["aa"] = 3, ["bb"] = 2, ["cc"] = 1, ["dd"] = 0 }, depths);
        Assert.False(fromD.Json.GetProperty("truncated").GetBoolean());
        Assert.Equal(["dd"], NodeSlugs(await viewer.Client.GetAsync(T("dd", "direction=downstream"))));

        Assert.Equal(422, (await viewer.Client.GetAsync(T("bb", "depth=0"))).Status);
        Assert.Equal(422, (await viewer.Client.GetAsync(T("bb", "depth=51"))).Status);
        Assert.Equal(422, (await viewer.Client.GetAsync(T("bb", "direction=sideways"))).Status);
        Assert.Equal(404, (await viewer.Client.GetAsync(T("zz", "depth=1"))).Status);
    }

    [Fact]
    public async Task A_cycle_terminates_and_returns_both_nodes()
    {
        var (editor, viewer, space) = await SpaceAsync();
        var x = (await editor.Client.CreateProductAsync(space, "xx")).Id();
        var y = (await editor.Client.CreateProductAsync(space, "yy")).Id();
        Assert.Equal(201, (await editor.Client.PostAsync(Up(space, "yy"), new { upstream_id = x })).Status);
        Assert.Equal(201, (await editor.Client.PostAsync(Up(space, "xx"), new { upstream_id = y })).Status);

        foreach (var direction in new[] { "upstream", "downstream", "both" })
        {
            var graph = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/xx/lineage?direction={direction}&depth=50");
            Assert.Equal(["xx", "yy"], NodeSlugs(graph));
            Assert.Equal(2, graph.Json.GetProperty("edges").GetArrayLength());
        }
        Assert.Equal(["xx", "yy"], NodeSlugs(await viewer.Client.GetAsync($"/api/v1/spaces/{space}/lineage?select=%2Bxx%2B")));
    }

    [Fact]
    public async Task Selectors_pick_exact_node_sets()
    {
        var (editor, viewer, space) = await SpaceAsync();
        await ChainAsync(editor, space, "aa", "bb", "cc", "dd", "ee");
        await editor.Client.CreateProductAsync(space, "lonely");
        async Task<List<string>> Select(string selector)
            => NodeSlugs(await viewer.Client.GetAsync($"/api/v1/spaces/{space}/lineage?select={Uri.EscapeDataString(selector)}"));

        Assert.Equal(["cc"], await Select("cc"));
        Assert.Equal(["aa", "bb", "cc"], await Select("+cc"));
        Assert.Equal(["cc", "dd", "ee"], await Select("cc+"));
        Assert.Equal(["aa", "bb", "cc", "dd", "ee"], await Select("+cc+"));
        Assert.Equal(["bb", "cc", "dd"], await Select("2+dd"));
        Assert.Equal(["cc", "dd"], await Select("cc+1"));
        Assert.Equal(["bb", "cc", "dd"], await Select("1+cc+1"));
        Assert.Equal(["aa", "ee", "lonely"], await Select("aa ee lonely"));
        await editor.Client.CreateProductAsync(space, "n1", new { name = "named_thing" });
        Assert.Equal(["n1"], await Select("named_thing")); // by name when no slug matches
        Assert.Equal(["aa", "bb", "dd", "ee"], await Select("aa+1 dd+"));
        Assert.Equal(["aa", "bb", "cc", "dd", "ee", "lonely", "n1"], NodeSlugs(await viewer.Client.GetAsync($"/api/v1/spaces/{space}/lineage")));

        var graph = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/lineage?select={Uri.EscapeDataString("+cc")}");
        Assert.Equal(2, graph.Json.GetProperty("edges").GetArrayLength());
        Assert.Single(graph.Json.GetProperty("roots").EnumerateArray());

        foreach (var bad in new[] { "++cc", "cc+x", "0+cc", "cc+51", "aa,bb", "cc++", "+", "@cc" })
        {
            var r = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/lineage?select={Uri.EscapeDataString(bad)}");
            Assert.True(r.Status == 422, $"{bad}: {r}");
            Assert.Equal("selector_invalid", r.ErrorType());
        }
        var unknown = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/lineage?select=%2Bnope");
        Assert.Equal(404, unknown.Status);
    }

    [Fact]
    public async Task Cross_space_upstream_is_restricted_for_those_who_cannot_see_it()
    {
        var both = await app.CreateUserAsync("Both");
        var onlyA = await app.CreateUserAsync("OnlyA");
        var onlyB = await app.CreateUserAsync("OnlyB");
        var spaceA = await app.CreateSpaceAsync(null, (both, "editor"), (onlyA, "editor"));
        var spaceB = await app.CreateSpaceAsync(null, (both, "viewer"), (onlyB, "editor"));
        var report = (await both.Client.CreateProductAsync(spaceA, "report", new { name = "Report" })).Id();
        var secret = (await onlyB.Client.CreateProductAsync(spaceB, "hidden-source", new { name = "Hidden Source", description = "classified" })).Id();

        // OnlyA cannot see B's product, so cannot link it.
        Assert.Equal("not_found", (await onlyA.Client.PostAsync(Up(spaceA, "report"), new { upstream_id = secret })).ErrorType());
        // Both (editor in A, viewer in B) may.
        var edge = await both.Client.PostAsync(Up(spaceA, "report"), new { upstream_id = secret });
        Assert.Equal(201, edge.Status);

        var seenByBoth = await both.Client.GetAsync($"/api/v1/spaces/{spaceA}/products/report/lineage");
        var full = seenByBoth.Json.GetProperty("nodes").EnumerateArray().Single(n => n.Id() == secret);
        Assert.False(full.GetProperty("restricted").GetBoolean());
        Assert.Equal(spaceB, full.Str("space_slug"));
        Assert.Equal("Hidden Source", full.Str("name"));

        foreach (var path in new[] { $"/api/v1/spaces/{spaceA}/products/report/lineage", $"/api/v1/spaces/{spaceA}/lineage?select=%2Breport" })
        {
            var seenByA = await onlyA.Client.GetAsync(path);
            Assert.Equal(200, seenByA.Status);
            var nodes = seenByA.Json.GetProperty("nodes").EnumerateArray().ToList();
            Assert.Equal(2, nodes.Count);
            var restricted = nodes.Single(n => n.Id() == secret);
            Assert.Equal(["id", "restricted"], restricted.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.True(restricted.GetProperty("restricted").GetBoolean());
            var visible = nodes.Single(n => n.Id() == report);
            Assert.False(visible.GetProperty("restricted").GetBoolean());
            Assert.Equal("Report", visible.Str("name"));
            Assert.DoesNotContain("Hidden Source", seenByA.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("hidden-source", seenByA.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(spaceB, seenByA.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("classified", seenByA.Body, StringComparison.Ordinal);
        }

        // From B's side, OnlyB sees its product's downstream in A as restricted.
        var fromB = await onlyB.Client.GetAsync($"/api/v1/spaces/{spaceB}/products/hidden-source/lineage?direction=downstream");
        var a = fromB.Json.GetProperty("nodes").EnumerateArray().Single(n => n.Id() == report);
        Assert.Equal(["id", "restricted"], a.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("Report", fromB.Body, StringComparison.Ordinal);

        // OnlyA (editor of A) can still remove the edge from the downstream side.
        Assert.Equal(204, (await onlyA.Client.DeleteAsync($"{Up(spaceA, "report")}/{secret}")).Status);
    }
}
