namespace Qarion.Core.Quality;

/// <summary>
/// Judges a metric against its own history (robust statistics: one outlier in the history does not move the
/// baseline). The baseline is the median of the history, the spread its median absolute deviation scaled by
/// 1.4826 (so it estimates a standard deviation for normal data). When every past value is the same the MAD is 0;
/// the spread then falls back to 0.1 % of |median| (or 1 when the median is 0), so a constant series still
/// tolerates tiny changes and a real jump still fails.
/// </summary>
public static class Anomaly
{
    public const double MadScale = 1.4826;

    public sealed record Baseline(double Median, double Spread, double Lower, double Upper, int History);

    public sealed record Verdict(CheckStatus Status, double? Deviations, Baseline? Baseline, string Message);

    public static Verdict Judge(double metric, IReadOnlyList<double> history, AnomalyConfig config)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(config);
        if (history.Count < config.MinHistory)
            return new Verdict(CheckStatus.Pass, null, null,
                $"Learning the baseline: {history.Count} of {config.MinHistory} results needed before this check can fail.");
        var median = Median(history);
        var mad = Median(history.Select(x => Math.Abs(x - median)).ToList()) * MadScale;
        var spread = mad > 0 ? mad : median != 0 ? Math.Abs(median) * 0.001 : 1;
        var baseline = new Baseline(median, spread, median - config.Sensitivity * spread, median + config.Sensitivity * spread, history.Count);
        var deviations = Math.Abs(metric - median) / spread;
        return deviations > config.Sensitivity
            ? new Verdict(CheckStatus.Fail, deviations, baseline,
                $"{metric:G6} is {deviations:0.#} spreads from the median {median:G6} (allowed {config.Sensitivity:0.##}; expected {baseline.Lower:G6} to {baseline.Upper:G6}).")
            : new Verdict(CheckStatus.Pass, deviations, baseline,
                $"{metric:G6} is within {config.Sensitivity:0.##} spreads of the median {median:G6}.");
    }

    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("No values", nameof(values));
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
