using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.EndToEnd;

/// <summary>
/// tools/Qarion.LocalHost as a child process running the real, built worker (src/Qarion.Functions' own bin folder,
/// which the test project's build produces with functions.metadata and worker.config.json). It picks free ports
/// itself and prints them; <see cref="StartAsync"/> returns once every function is loaded.
/// </summary>
public sealed class LocalHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<bool> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LocalHostProcess(Process process) => _process = process;

    public Uri BaseAddress { get; private set; } = null!;
    public int WorkerPid { get; private set; }
    public int HostPid => _process.Id;
    public TimeSpan StartUp { get; private set; }
    public string Output => string.Join('\n', _output);
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>bin/&lt;Configuration&gt;/net10.0 of the test assembly, so Debug and Release (CI) builds find their own outputs.</summary>
    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public static string WorkerDirectory => Path.Combine(TestEnvironment.RepoRoot, "src", "Qarion.Functions", "bin", Configuration, "net10.0");

    public static string HostAssembly => Path.Combine(TestEnvironment.RepoRoot, "tools", "Qarion.LocalHost", "bin", Configuration, "net10.0", "Qarion.LocalHost.dll");

    public static async Task<LocalHostProcess> StartAsync(IDictionary<string, string> settings, string queuePrefix)
    {
        foreach (var required in new[] { HostAssembly, Path.Combine(WorkerDirectory, "functions.metadata"), Path.Combine(WorkerDirectory, "worker.config.json") })
            if (!File.Exists(required)) throw new InvalidOperationException($"{required} is missing: build tests/Qarion.Tests first.");
        var start = new ProcessStartInfo("dotnet", [HostAssembly, WorkerDirectory, "--port", "0", "--queue-prefix", queuePrefix, "--timers", "manual", "--retry-visibility", "0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in settings) start.Environment[key] = value;
        var stopwatch = Stopwatch.StartNew();
        var host = new LocalHostProcess(Process.Start(start)!);
        host._process.OutputDataReceived += (_, e) => host.OnLine(e.Data, stopwatch);
        host._process.ErrorDataReceived += (_, e) => host.OnLine(e.Data, stopwatch);
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        bool ready;
        try
        {
            ready = await host._ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            ready = false;
        }
        if (!ready)
        {
            await host.DisposeAsync();
            throw new InvalidOperationException("The local host did not become ready:\n" + host.Output);
        }
        return host;
    }

    private void OnLine(string? line, Stopwatch stopwatch)
    {
        if (line is null)
        {
            _ready.TrySetResult(false);
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 2000) _output.TryDequeue(out _);
        if (line.StartsWith("host: listening on ", StringComparison.Ordinal))
            BaseAddress = new Uri(line["host: listening on ".Length..].Split(' ')[0]);
        else if (line.StartsWith("host: worker pid ", StringComparison.Ordinal))
            WorkerPid = int.Parse(line["host: worker pid ".Length..].Split(' ')[0], CultureInfo.InvariantCulture);
        else if (line.StartsWith("host: ready after ", StringComparison.Ordinal))
        {
            StartUp = stopwatch.Elapsed;
            _ready.TrySetResult(true);
        }
        else if (line.StartsWith("host: NOT ready", StringComparison.Ordinal))
            _ready.TrySetResult(false);
    }

    /// <summary>SIGTERM, as a process manager stops it; returns whether it exited by itself within the timeout.</summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited) return true;
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
            await kill!.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!await StopAsync(TimeSpan.FromSeconds(20)))
            _process.Kill(entireProcessTree: true);
        if (WorkerPid != 0 && IsRunning(WorkerPid))
        {
            using var worker = Process.GetProcessById(WorkerPid);
            worker.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
