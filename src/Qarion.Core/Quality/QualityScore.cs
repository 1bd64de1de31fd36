namespace Qarion.Core.Quality;

/// <summary>
/// A product's quality score from the latest (non-ignored) result of each of its active checks:
/// <code>score = 100 × Σ weight(severity) × points(status) / Σ weight(severity)</code>
/// over checks whose latest result is PASS (1 point), WARNING (½) or FAIL (0), with weights low 1, medium 2,
/// high 3, critical 5. ERROR results say nothing about the data, so they are counted but left out of the score.
/// Health: <c>healthy</c> ≥ 90, <c>warning</c> ≥ 70, else <c>critical</c>; a failing check of critical
/// severity makes the product <c>critical</c> whatever the score; no scored check → score null, <c>unknown</c>.
/// </summary>
public static class QualityScore
{
    public const double HealthyAtLeast = 90;
    public const double WarningAtLeast = 70;

    public static int Weight(CheckSeverity severity) => severity switch
    {
        CheckSeverity.Low => 1,
        CheckSeverity.Medium => 2,
        CheckSeverity.High => 3,
        CheckSeverity.Critical => 5,
        _ => throw new ArgumentOutOfRangeException(nameof(severity), severity, null),
    };

    public sealed record Result(double? Score, string Health, int Passing, int Warning, int Failing, int Errored);

    public static Result Compute(IEnumerable<(CheckSeverity Severity, ExecutionStatus Status)> latest)
    {
        double weighted = 0, weights = 0;
        int passing = 0, warning = 0, failing = 0, errored = 0;
        var criticalFailing = false;
        foreach (var (severity, status) in latest)
        {
            double points;
            switch (status)
            {
                case ExecutionStatus.Pass: passing++; points = 1; break;
                case ExecutionStatus.Warning: warning++; points = 0.5; break;
                case ExecutionStatus.Fail:
                    failing++;
                    points = 0;
                    criticalFailing |= severity == CheckSeverity.Critical;
                    break;
                case ExecutionStatus.Error: errored++; continue;
                default: continue;
            }
            weighted += Weight(severity) * points;
            weights += Weight(severity);
        }
        if (weights == 0) return new Result(null, "unknown", passing, warning, failing, errored);
        var score = Math.Round(100 * weighted / weights, 2);
        var health = criticalFailing ? "critical" : score >= HealthyAtLeast ? "healthy" : score >= WarningAtLeast ? "warning" : "critical";
        return new Result(score, health, passing, warning, failing, errored);
    }
}
