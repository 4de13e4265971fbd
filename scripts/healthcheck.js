#!/usr/bin/env node
// The image's HEALTHCHECK, whatever process the container runs: healthy when the server's HTTP port
// (AMPORA_HTTP_PORT) or the worker's (AMPORA_WORKER_HTTP_PORT) answers GET /health/live with 200.
const ports = [process.env.AMPORA_HTTP_PORT || '4320', process.env.AMPORA_WORKER_HTTP_PORT || '4322'].filter((p) => p !== '0');

async function live(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(3000) });
    return res.ok;
  } catch {
    return false;
  }
}

(async () => {
  for (const port of ports) if (await live(port)) process.exit(0);
  process.exit(1);
})();
