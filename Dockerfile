# syntax=docker/dockerfile:1
# AuraLink call service: a two-stage image. The build stage installs every dependency
# and runs scripts/build-artifact.sh, the same script scripts/production-check.sh runs
# in CI without Docker; the runtime stage gets only its output: dist/, web/dist/ and
# production dependencies, no TypeScript, no build tools, run by a non-root user.
#
#   docker build -t auralink .
#   docker run --env-file auralink.env -p 8080:8080 auralink
# (not built on the machines this was written on: no Docker engine there; see
# docs/deployment.md for what was verified and how)
ARG NODE_IMAGE=node:26-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Whole context (trimmed by .dockerignore): npm ci needs every workspace's package.json
# and the build needs the web app and client sources as well as the server's.
COPY . .
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund \
 && bash scripts/build-artifact.sh /app

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/auralink
WORKDIR /app
# Owned by root and read-only to the service user: the process cannot rewrite its code.
COPY --from=build /app /app
# DATA_DIR is the only writable place (the embedded modes, when allowed, keep data here).
RUN mkdir -p /var/lib/auralink && chown node:node /var/lib/auralink
VOLUME ["/var/lib/auralink"]
USER node
EXPOSE 8080
# Liveness, not readiness: restart only a process that no longer answers; a database
# outage (readiness 503) is for the load balancer to route around, not a restart.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/liveness').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# main.ts drains in-flight requests on SIGTERM (SHUTDOWN_TIMEOUT_MS) and exits 0.
STOPSIGNAL SIGTERM
# --max-semi-space-size=4 --heap-growing-percent=50: see docs/deployment.md, "Memory".
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=50", "dist/main.js"]
