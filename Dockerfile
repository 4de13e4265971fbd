# syntax=docker/dockerfile:1
# One image for the three Ampora processes (server, worker, cli), built from one code base.
#
#   docker build -t ampora .                                   # the server (the last stage)
#   docker build --target worker -t ampora-worker .            # the worker: health on AMPORA_WORKER_HTTP_PORT
#   docker build --target cli -t ampora-cli .                  # the CLI as the entrypoint
#
# Every target is the same files; only the command, the exposed port and the health check differ, so
# `docker run ampora node dist/apps/worker/apps/worker/src/main.js` works too (the health check
# probes whichever of the two ports answers). scripts/docker-smoke.sh builds and smoke-tests them.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# pkcs11js (the PKCS#11 signing provider) builds a native addon at install
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
# AMPORA_DATA_DIR: the embedded store (no DATABASE_URL) lives on the /data volume
ENV NODE_ENV=production \
    AMPORA_HTTP_PORT=4320 \
    AMPORA_WORKER_HTTP_PORT=4322 \
    AMPORA_DATA_DIR=/data
RUN apt-get update && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system ampora && useradd --system --gid ampora --home-dir /app --shell /usr/sbin/nologin ampora \
    && mkdir -p /app /data && chown ampora:ampora /app /data
WORKDIR /app
COPY --from=build --chown=ampora:ampora /src/package.json ./package.json
COPY --from=build --chown=ampora:ampora /src/node_modules ./node_modules
COPY --from=build --chown=ampora:ampora /src/dist ./dist
# npm run cli / npm start inside the container (scripts/cli.js, scripts/start.js) and the health check
COPY --from=build --chown=ampora:ampora /src/scripts ./scripts
USER ampora
VOLUME ["/data"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD ["node", "scripts/healthcheck.js"]

FROM runtime AS cli
# docker run --rm -e DATABASE_URL=... ampora-cli tokens create --tenant default --role Admin --name me
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/apps/cli/apps/cli/src/main.js"]
CMD ["--help"]
HEALTHCHECK NONE

FROM runtime AS worker
EXPOSE 4322
# the young generation size of decision 0428 (scripts/node-options.js); an operator's NODE_OPTIONS replaces it
ENV NODE_OPTIONS=--max-semi-space-size=64
CMD ["node", "dist/apps/worker/apps/worker/src/main.js"]

FROM runtime AS server
EXPOSE 4320 4321
# the young generation size of decision 0428 (scripts/node-options.js); an operator's NODE_OPTIONS replaces it
ENV NODE_OPTIONS=--max-semi-space-size=64
CMD ["node", "dist/apps/server/apps/server/src/main.js"]
