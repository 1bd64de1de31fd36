using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.EndToEnd;

/// <summary>A host of its own (the shared one keeps serving the other tests): start-up time and a clean SIGTERM.</summary>
[Collection(LocalHostTestGroup.Name)]
public sealed class LocalHostShutdownTests(LocalHostFixture app)
{
    [Fact]
    public async Task SIGTERM_terminates_the_worker_cleanly_and_leaves_no_orphan_process()
    {
        var prefix = $"e2e{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}-";
        var host = await LocalHostProcess.StartAsync(app.Settings, prefix);
        try
        {
            Assert.True(host.StartUp < TimeSpan.FromSeconds(20), $"start-up took {host.StartUp}");
            Assert.True(LocalHostProcess.IsRunning(host.WorkerPid));

            Assert.True(await host.StopAsync(TimeSpan.FromSeconds(20)), "the host did not exit after SIGTERM:\n" + host.Output);

            Assert.Equal(0, host.ExitCode);
            Assert.Contains("host: worker exited with 0", host.Output, StringComparison.Ordinal);
            Assert.False(LocalHostProcess.IsRunning(host.WorkerPid), $"worker {host.WorkerPid} outlived its host");
        }
        finally
        {
            await host.DisposeAsync();
            foreach (var q in new[] { prefix + "quality-checks", prefix + "quality-checks-poison" })
                await LocalHostFixture.Queue(q).DeleteIfExistsAsync();
        }
    }
}
