using System.Globalization;

namespace Qarion.Core.Contracts;

/// <summary>The terms of one contract, as evaluated.</summary>
public sealed record SlaTerms(double? FreshnessHours, double? MinQualityScore, double? AvailabilityPercent, int WindowDays);

/// <summary>The latest freshness result: when it completed and how old (seconds) the newest row was then.</summary>
public sealed record FreshnessObservation(DateTimeOffset CompletedAt, double AgeSeconds);

/// <summary>
/// What the evaluation reads about the producer: its latest freshness result, its quality score, and its checks'
/// completed runs in the window (<paramref name="Runs"/>), of which <paramref name="GoodRuns"/> passed or warned.
/// </summary>
public sealed record SlaInputs(FreshnessObservation? Freshness, double? QualityScore, int Runs, int GoodRuns);

public sealed record SlaEvaluation(SlaStatus Overall, IReadOnlyList<ContractTermResult> Terms);

public enum ViolationAction { None, Open, Update, Escalate, Close }

/// <param name="Action">What to do with the term's violation row.</param>
/// <param name="EmitViolated">True when the term has just become Breached: write one <c>contract.violated</c> event.</param>
public sealed record ViolationDecision(ViolationAction Action, bool EmitViolated);

/// <summary>
/// The SLA decisions, free of data access so they can be tested with exact figures
/// (formulas and margins: docs/decisions/0005-contracts.md).
/// </summary>
public static class SlaEvaluator
{
    /// <summary>Freshness is at risk once the data is older than this share of the limit.</summary>
    public const double FreshnessRiskShare = 0.8;
    /// <summary>The quality score is at risk at or below this many points above the minimum.</summary>
    public const double QualityRiskPoints = 5;
    /// <summary>Availability is at risk at or below this many points above the term.</summary>
    public const double AvailabilityRiskPoints = 1;

    public static SlaEvaluation Evaluate(SlaTerms terms, SlaInputs inputs, DateTimeOffset now)
    {
        var results = new List<ContractTermResult>();
        if (terms.FreshnessHours is { } hours) results.Add(Freshness(hours, inputs.Freshness, now));
        if (terms.MinQualityScore is { } min) results.Add(Quality(min, inputs.QualityScore));
        if (terms.AvailabilityPercent is { } percent) results.Add(Availability(percent, terms.WindowDays, inputs.Runs, inputs.GoodRuns));
        return new SlaEvaluation(Overall(results.Select(r => r.Status)), results);
    }

    /// <summary>age (h) = metric (s) / 3600 + hours since the run completed (never negative).</summary>
    public static ContractTermResult Freshness(double limitHours, FreshnessObservation? observation, DateTimeOffset now)
    {
        if (observation is null)
            return new(ContractTerms.Freshness, SlaStatus.Unknown, limitHours, null, "No completed freshness check result covers the producer.");
        var age = observation.AgeSeconds / 3600 + Math.Max(0, (now - observation.CompletedAt).TotalHours);
        var status = age > limitHours ? SlaStatus.Breached : age > FreshnessRiskShare * limitHours ? SlaStatus.AtRisk : SlaStatus.Meeting;
        return new(ContractTerms.Freshness, status, limitHours, age, $"The data is {F(age)} h old; the limit is {F(limitHours)} h.");
    }

    public static ContractTermResult Quality(double minimum, double? score)
    {
        if (score is not { } s)
            return new(ContractTerms.QualityScore, SlaStatus.Unknown, minimum, null, "The producer has no quality score yet.");
        var status = s < minimum ? SlaStatus.Breached
            : s < 100 && s <= minimum + QualityRiskPoints ? SlaStatus.AtRisk
            : SlaStatus.Meeting;
        return new(ContractTerms.QualityScore, status, minimum, s, $"The quality score is {F(s)}; the minimum is {F(minimum)}.");
    }

    /// <summary>availability (%) = 100 × runs that passed or warned / completed runs in the window.</summary>
    public static ContractTermResult Availability(double term, int windowDays, int runs, int goodRuns)
    {
        if (runs <= 0)
            return new(ContractTerms.Availability, SlaStatus.Unknown, term, null, $"No completed check runs of the producer in the last {windowDays} days.");
        var percent = 100.0 * goodRuns / runs;
        var status = percent < term ? SlaStatus.Breached
            : percent < 100 && percent <= term + AvailabilityRiskPoints ? SlaStatus.AtRisk
            : SlaStatus.Meeting;
        return new(ContractTerms.Availability, status, term, percent,
            $"{goodRuns} of {runs} check runs in the last {windowDays} days passed or warned ({F(percent)}%); the term is {F(term)}%.");
    }

    /// <summary>The worst known term (Breached &gt; At risk &gt; Meeting); Unknown only when no term is known.</summary>
    public static SlaStatus Overall(IEnumerable<SlaStatus> terms)
        => terms.Where(s => s != SlaStatus.Unknown).DefaultIfEmpty(SlaStatus.Unknown).Max();

    /// <summary>
    /// What a term's result does to its violation. <paramref name="term"/> is null when the contract no longer has
    /// the term; <paramref name="openSeverity"/> is the open violation's severity, if one is open; outside
    /// <paramref name="inForce"/> (before effective_from) nothing is opened and what is open is closed.
    /// </summary>
    public static ViolationDecision Decide(ContractTermResult? term, SlaStatus? openSeverity, bool inForce)
    {
        var open = openSeverity is not null;
        if (term is null || !inForce || term.Status == SlaStatus.Meeting)
            return new(open ? ViolationAction.Close : ViolationAction.None, false);
        if (term.Status == SlaStatus.Unknown) return new(ViolationAction.None, false); // nothing known: leave it as it is
        if (!open) return new(ViolationAction.Open, term.Status == SlaStatus.Breached);
        if (openSeverity == SlaStatus.AtRisk && term.Status == SlaStatus.Breached) return new(ViolationAction.Escalate, true);
        return new(ViolationAction.Update, false);
    }

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
