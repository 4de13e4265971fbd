// The V8 settings Ampora's server and worker run with (decision 0428), applied by `npm start`, by the
// tests' and benchmarks' process starter (libs/testing) and, as NODE_OPTIONS, by the Docker images.
//
// --max-semi-space-size: the young generation, where an OpAMP frame's short-lived objects die. V8's
// default (16 MiB per semi-space) made scavenges 9–12 % of a loaded server's CPU and over a quarter
// of a worker's during a rollout; at 64 MiB they are about half that (BENCHMARKS.md), for up to
// 128 MiB more RSS per process under load. An operator's NODE_OPTIONS naming the flag wins.
const SEMI_SPACE_MB = 64;

/** `env` with the product's V8 settings added to NODE_OPTIONS, unless it already names them. */
function withProductNodeOptions(env) {
  const current = env.NODE_OPTIONS ?? '';
  if (/--max-semi-space-size\b/.test(current)) return env;
  return { ...env, NODE_OPTIONS: `${current} --max-semi-space-size=${SEMI_SPACE_MB}`.trim() };
}

module.exports = { SEMI_SPACE_MB, withProductNodeOptions };
