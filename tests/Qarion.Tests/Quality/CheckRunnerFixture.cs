using Qarion.Core.Quality;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Ingestion;

namespace Qarion.Tests.Quality;

/// <summary>The Chinook source (shared, read-only) and one scratch source with the edge cases Chinook lacks.</summary>
public sealed class CheckRunnerFixture : IAsyncLifetime
{
    public CheckRunner Runner { get; } = new(TimeProvider.System);
    public string Chinook { get; private set; } = "";
    public ScratchDatabase Edges { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Chinook = await SourceDatabases.ChinookAsync();
        Edges = await SourceDatabases.CreateScratchAsync();
        await Edges.ExecuteAsync(EdgesDdl);
    }

    public async Task DisposeAsync() => await Edges.DisposeAsync();

    public Task<CheckOutcome> RunAsync(string database, CheckConfig config, Threshold? warning = null, Threshold? critical = null, int timeoutSeconds = 60)
    {
        var (source, creds) = PostgresScraperFixture.Source(database, timeoutSeconds);
        return Runner.RunAsync(PostgresCheckDialect.Instance.Compile(new CheckDefinition(config, warning, critical)), source, creds, default);
    }

    /// <summary>Names that need quoting (a keyword, spaces, mixed case, embedded quotes) and rows with known answers.</summary>
    // Four quotes: the DDL itself holds """ (a doubled quote closing a quoted name).
    private const string EdgesDdl = """"
        CREATE TABLE public.empty (id integer, amount numeric, seen_at timestamptz, label text);
        CREATE TABLE public.all_nulls (id integer, amount numeric, seen_at timestamptz, label text);
        INSERT INTO public.all_nulls (id) SELECT i FROM generate_series(1, 5) AS i;

        CREATE SCHEMA "Edge Cases";
        CREATE TABLE "Edge Cases"."Odd ""Table""" ("select" integer, "Mixed Case" text, "x"" OR 1=1 --" integer);
        INSERT INTO "Edge Cases"."Odd ""Table""" VALUES (1, 'a', 1), (2, 'b', 2), (NULL, 'it''s', 3), (2, NULL, NULL);

        -- What a malicious query would like to change; every write test checks it stays untouched.
        CREATE TABLE public.victims (id integer);
        CREATE SEQUENCE public.counter;
        CREATE FUNCTION public.side_effect() RETURNS integer LANGUAGE sql AS $$ INSERT INTO public.victims VALUES (1) RETURNING 1 $$;

        -- A nested quantifier over a long run of 'a' that does not end the way the pattern wants.
        CREATE TABLE public.typed (s smallint, i integer, b bigint, n numeric(6,2), r real, d double precision, t text);
        INSERT INTO public.typed VALUES (-1, -1, -1, -0.01, -0.5, -0.5, 'a'), (0, 0, 0, 0, 0, 0, 'b'), (5, 5, 5, 4.99, 0.1, 0.1, 'c'),
                                        (10, 10, 10, 10.01, 10.5, 10.5, 'd'), (11, 11, 9000000000, 10, 10, 10, 'e');
        CREATE TABLE public.long_text (s text);
        INSERT INTO public.long_text VALUES (repeat('a', 5000) || 'b');

        CREATE TABLE public.events (happened_at timestamptz);
        INSERT INTO public.events VALUES (now() - interval '2 days'), (now() - interval '3 days');
        """";
}
