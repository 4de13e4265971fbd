/* Test files that judge time or memory (request latency, heartbeat percentiles, RSS after the run).
 * scripts/test.js runs them after every other test, one at a time, on a machine no other test is
 * loading: their bounds are about the server, not about what else the CI box is doing (decision 0422).
 * Paths from the repository root. */
module.exports = ['test/parsing-limits.property.e2e-spec.ts', 'test/reliability/opamp-frame-fuzz.e2e-spec.ts'];
