using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Qarion.LocalHost;

/// <summary>
/// Command line and settings of the local host. Options: <c>--port N</c> (HTTP, default 7071, 0 = a free port),
/// <c>--queue-prefix P</c> (every trigger queue is read as P + name, so parallel hosts on one Azurite do not steal
/// each other's messages), <c>--timers on|manual</c> (manual: only <c>POST /admin/functions/{name}</c> fires them),
/// <c>--retry-visibility SECONDS</c> (overrides host.json's <c>visibilityTimeout</c> for failed messages),
/// <c>--exit-when-ready</c>.
/// </summary>
internal sealed class LocalHostOptions
{
    public required string WorkerDirectory { get; init; }
    public int HttpPort { get; init; } = 7071;
    public int GrpcPort { get; init; }
    public string QueuePrefix { get; init; } = "";
    public bool ScheduledTimers { get; init; } = true;
    public TimeSpan? RetryVisibility { get; init; }
    public bool ExitWhenReady { get; init; }

    /// <summary>The app settings the worker gets: local.settings.json <c>Values</c> under the host's environment (the environment wins).</summary>
    public Dictionary<string, string> AppSettings { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>host.json of the worker directory (the app's, copied by the build).</summary>
    public JsonElement HostJson { get; private set; }

    public static LocalHostOptions Parse(string[] args)
    {
        string? directory = null;
        int port = 7071, grpc = 0;
        string prefix = "";
        var timers = true;
        TimeSpan? visibility = null;
        var exit = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port": port = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--grpc-port": grpc = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--queue-prefix": prefix = args[++i]; break;
                case "--timers": timers = args[++i] != "manual"; break;
                case "--retry-visibility": visibility = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--exit-when-ready": exit = true; break;
                default: directory = args[i]; break;
            }
        }

        if (directory is null) throw new ArgumentException("usage: Qarion.LocalHost <worker bin dir> [--port N] [--queue-prefix P] [--timers on|manual] [--retry-visibility S] [--exit-when-ready]");
        var options = new LocalHostOptions
        {
            WorkerDirectory = Path.GetFullPath(directory),
            HttpPort = port == 0 ? FreePort() : port,
            GrpcPort = grpc == 0 ? FreePort() : grpc,
            QueuePrefix = prefix,
            ScheduledTimers = timers,
            RetryVisibility = visibility,
            ExitWhenReady = exit,
        };
        options.Load();
        return options;
    }

    private void Load()
    {
        var local = Path.Combine(WorkerDirectory, "local.settings.json");
        if (File.Exists(local))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(local), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (doc.RootElement.TryGetProperty("Values", out var values))
            {
                foreach (var v in values.EnumerateObject())
                {
                    AppSettings[v.Name] = v.Value.ValueKind == JsonValueKind.String ? v.Value.GetString()! : v.Value.GetRawText();
                }
            }
        }

        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            AppSettings[(string)e.Key] = (string?)e.Value ?? "";
        }

        var hostJson = Path.Combine(WorkerDirectory, "host.json");
        using var host = JsonDocument.Parse(File.Exists(hostJson) ? File.ReadAllText(hostJson) : "{}");
        HostJson = host.RootElement.Clone();
    }

    /// <summary>An app setting by its configuration key (<c>A:B</c> or <c>A__B</c>).</summary>
    public string? Setting(string key) =>
        AppSettings.TryGetValue(key, out var v) || AppSettings.TryGetValue(key.Replace(":", "__", StringComparison.Ordinal), out v) ? v : null;

    /// <summary>Binding expressions <c>%Name%</c> resolved from the app settings, as the host does for trigger attributes.</summary>
    public string Resolve(string value)
    {
        if (value.Length > 2 && value[0] == '%' && value[^1] == '%')
        {
            var key = value[1..^1];
            return Setting(key) ?? throw new InvalidOperationException($"The binding expression {value} names an app setting that is not set.");
        }

        return value;
    }

    /// <summary>A value under host.json's <c>extensions</c>, e.g. ("queues", "maxDequeueCount").</summary>
    public JsonElement? Extension(string extension, string name) =>
        HostJson.TryGetProperty("extensions", out var ext) && ext.TryGetProperty(extension, out var e) && e.TryGetProperty(name, out var v) ? v : null;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
