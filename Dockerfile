# contact-gateway: build on the full toolchain, run compiled JavaScript with runtime dependencies only.
#   docker build -t contact-gateway .
#   docker run -p 4000:4000 -v gateway-data:/data --stop-timeout 40 \
#     -e GATEWAY_API_KEYS='[{"name":"ops","key":"…24+ characters…","scopes":["contacts:read","contacts:write"]}]' contact-gateway
# --stop-timeout 40: SIGTERM drains requests in flight for up to GATEWAY_SHUTDOWN_TIMEOUT_MS (25 s),
# plus a margin (docs/operations.md, "Container").
# Built and run for real by scripts/docker-smoke.sh (results in docs/operations.md).

FROM node:20.20-bookworm-slim AS build
# For native dependencies (the embedded store's SQLite): npm fetches a prebuilt binary for this
# Node.js, or compiles it with python3, make and g++ where that download is not possible.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
# Compile, then drop the development dependencies and node-gyp's intermediate files: the runtime
# stage takes node_modules as built here (the native module is fetched or compiled once).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && find node_modules -path '*/build/Release/*' \( -name 'obj*' -o -name '*.a' -o -name '.deps' \) -prune -exec rm -rf {} +

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    LOG_FORMAT=json \
    GATEWAY_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json LICENSE ./
# The import CLI: docker run … node bin/contact-gateway.mjs import /data/contacts.csv (docs/import.md)
COPY bin ./bin
# The embedded database (identity map, idempotency records, outbox) lives on this volume unless
# DATABASE_URL points at PostgreSQL. The image runs as the unprivileged `node` user.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 4000
# HOST=0.0.0.0 is refused without GATEWAY_API_KEYS: the gateway never serves other machines anonymously.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/server.js"]
