# syntax=docker/dockerfile:1
# Multi-stage build of the three Ampora processes (server, worker, cli) from one code base.

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
ENV NODE_ENV=production \
    AMPORA_HTTP_PORT=4320
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system ampora && useradd --system --gid ampora --home-dir /app --shell /usr/sbin/nologin ampora
WORKDIR /app
COPY --from=build --chown=ampora:ampora /src/package.json ./package.json
COPY --from=build --chown=ampora:ampora /src/node_modules ./node_modules
COPY --from=build --chown=ampora:ampora /src/dist ./dist
USER ampora
EXPOSE 4320 4321
ENTRYPOINT ["/usr/bin/tini", "--"]
# The same image runs every process: override the command for the worker or the CLI, e.g.
#   docker run ampora node dist/apps/worker/apps/worker/src/main.js
#   docker run ampora node dist/apps/cli/apps/cli/src/main.js migrate
CMD ["node", "dist/apps/server/apps/server/src/main.js"]
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+(process.env.AMPORA_HTTP_PORT||4320)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
