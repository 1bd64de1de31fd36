using Qarion.Core.Contracts;

namespace Qarion.Tests.Contracts;

/// <summary>The SLA formulas and margins, with exact figures and no database.</summary>
public sealed class SlaEvaluatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    // metric 6 h, completed 1 h ago: 7 h old against a 10 h limit (at risk above 8 h)
    [InlineData(6 * 3600, 60, 10, SlaStatus.Meeting, 7.0)]
    [InlineData(6 * 3600, 120, 10, SlaStatus.Meeting, 8.0)]     // exactly 80 %: not yet at risk
    [InlineData(6 * 3600, 150, 10, SlaStatus.AtRisk, 8.5)]
    [InlineData(9 * 3600, 60, 10, SlaStatus.AtRisk, 10.0)]      // exactly the limit: at risk, not breached
    [InlineData(9 * 3600, 90, 10, SlaStatus.Breached, 10.5)]
    public void Freshness_age_is_the_metric_plus_the_time_since_the_run(double metricSeconds, int minutesAgo, double limit, SlaStatus status, double age)
    {
        var r = SlaEvaluator.Freshness(limit, new FreshnessObservation(Now.AddMinutes(-minutesAgo), metricSeconds), Now);
        Assert.Equal((ContractTerms.Freshness, status, limit, (double?)age), (r.Term, r.Status, r.Expected, r.Actual));
    }

    [Fact]
    public void Freshness_without_a_result_is_unknown_and_a_run_dated_in_the_future_adds_no_age()
    {
        var unknown = SlaEvaluator.Freshness(10, null, Now);
        Assert.Equal((SlaStatus.Unknown, (double?)null), (unknown.Status, unknown.Actual));
        Assert.Equal("No completed freshness check result covers the producer.", unknown.Message);
        Assert.Equal(2.0, SlaEvaluator.Freshness(10, new FreshnessObservation(Now.AddMinutes(5), 7200), Now).Actual);
    }

    [Theory]
    [InlineData(80, 79.9, SlaStatus.Breached)]
    [InlineData(80, 80, SlaStatus.AtRisk)]
    [InlineData(80, 85, SlaStatus.AtRisk)]     // within 5 points above, inclusive
    [InlineData(80, 85.01, SlaStatus.Meeting)]
    [InlineData(98, 100, SlaStatus.Meeting)]   // a perfect score is never at risk
    [InlineData(100, 100, SlaStatus.Meeting)]
    [InlineData(100, 99.5, SlaStatus.Breached)]
    public void Quality_score_margins(double minimum, double score, SlaStatus status)
    {
        var r = SlaEvaluator.Quality(minimum, score);
        Assert.Equal((ContractTerms.QualityScore, status, minimum, (double?)score), (r.Term, r.Status, r.Expected, r.Actual));
        Assert.Equal(SlaStatus.Unknown, SlaEvaluator.Quality(minimum, null).Status);
    }

    [Theory]
    [InlineData(95, 20, 18, SlaStatus.Breached, 90.0)]
    [InlineData(95, 20, 19, SlaStatus.AtRisk, 95.0)]
    [InlineData(95, 50, 48, SlaStatus.AtRisk, 96.0)]   // exactly one point above: at risk
    [InlineData(95, 40, 39, SlaStatus.Meeting, 97.5)]
    [InlineData(99.5, 10, 10, SlaStatus.Meeting, 100.0)]
    public void Availability_is_the_share_of_runs_that_passed_or_warned(double term, int runs, int good, SlaStatus status, double percent)
    {
        var r = SlaEvaluator.Availability(term, 30, runs, good);
        Assert.Equal((ContractTerms.Availability, status, term, (double?)percent), (r.Term, r.Status, r.Expected, r.Actual));
    }

    [Fact]
    public void Availability_without_runs_is_unknown()
    {
        var r = SlaEvaluator.Availability(95, 7, 0, 0);
        Assert.Equal((SlaStatus.Unknown, (double?)null, "No completed check runs of the producer in the last 7 days."), (r.Status, r.Actual, r.Message));
    }

    [Theory]
    [InlineData(new[] { SlaStatus.Meeting, SlaStatus.AtRisk, SlaStatus.Unknown }, SlaStatus.AtRisk)]
    [InlineData(new[] { SlaStatus.Breached, SlaStatus.AtRisk }, SlaStatus.Breached)]
    [InlineData(new[] { SlaStatus.Unknown, SlaStatus.Meeting }, SlaStatus.Meeting)]
    [InlineData(new[] { SlaStatus.Unknown, SlaStatus.Unknown }, SlaStatus.Unknown)]
    [InlineData(new SlaStatus[0], SlaStatus.Unknown)]
    public void Overall_is_the_worst_known_term(SlaStatus[] terms, SlaStatus overall) => Assert.Equal(overall, SlaEvaluator.Overall(terms));

    [Fact]
    public void Evaluate_covers_only_the_terms_the_contract_has()
    {
        var e = SlaEvaluator.Evaluate(new SlaTerms(null, 80, 95, 7), new SlaInputs(null, 90, 4, 3), Now);
        Assert.Equal([ContractTerms.QualityScore, ContractTerms.Availability], e.Terms.Select(t => t.Term));
        Assert.Equal((SlaStatus.Breached, 75.0), (e.Overall, e.Terms[1].Actual));
    }

    private static ContractTermResult Term(SlaStatus status) => new(ContractTerms.Freshness, status, 10, 1, "m");

    [Theory]
    [InlineData(SlaStatus.Meeting, null, true, ViolationAction.None, false)]
    [InlineData(SlaStatus.AtRisk, null, true, ViolationAction.Open, false)]
    [InlineData(SlaStatus.Breached, null, true, ViolationAction.Open, true)]
    [InlineData(SlaStatus.Breached, SlaStatus.AtRisk, true, ViolationAction.Escalate, true)]
    [InlineData(SlaStatus.Breached, SlaStatus.Breached, true, ViolationAction.Update, false)]   // an unchanged breach: no second event
    [InlineData(SlaStatus.AtRisk, SlaStatus.Breached, true, ViolationAction.Update, false)]     // easing off stays open, no event
    [InlineData(SlaStatus.Meeting, SlaStatus.Breached, true, ViolationAction.Close, false)]
    [InlineData(SlaStatus.Unknown, SlaStatus.Breached, true, ViolationAction.None, false)]      // unknown leaves it open
    [InlineData(SlaStatus.Unknown, null, true, ViolationAction.None, false)]
    [InlineData(SlaStatus.Breached, null, false, ViolationAction.None, false)]                  // not in force yet
    [InlineData(SlaStatus.Breached, SlaStatus.AtRisk, false, ViolationAction.Close, false)]
    public void Violation_decisions(SlaStatus status, SlaStatus? open, bool inForce, ViolationAction action, bool emit)
        => Assert.Equal(new ViolationDecision(action, emit), SlaEvaluator.Decide(Term(status), open, inForce));

    [Fact]
    public void A_term_removed_from_the_contract_closes_its_violation()
    {
        Assert.Equal(new ViolationDecision(ViolationAction.Close, false), SlaEvaluator.Decide(null, SlaStatus.AtRisk, true));
        Assert.Equal(new ViolationDecision(ViolationAction.None, false), SlaEvaluator.Decide(null, null, true));
    }
}
