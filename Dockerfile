# The Tessera server image: `tessera serve` on Node.js 24, production dependencies only.
# TypeScript runs through Node's type stripping, so there is no build step: the image holds the
# sources of the runtime packages and nothing of bench/, examples/, tests or dev tools.
#
#   docker build -t tessera .
#   docker run -p 8080:8080 -v tessera-data:/data tessera                     # one instance, SQLite
#   docker run -p 8080:8080 -e TESSERA_DATABASE_URL=postgres://… \
#     -e TESSERA_REDIS_URL=redis://… tessera                                  # one of N, see docs/deployment.md

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/verifier/package.json packages/verifier/
COPY packages/server/package.json packages/server/
COPY packages/cli/package.json packages/cli/
COPY packages/client/package.json packages/client/
COPY bench/package.json bench/
# Only the runtime workspaces' production dependencies (argon2 ships prebuilt binaries for
# linux-x64 and linux-arm64 glibc, so no compiler is needed).
RUN npm ci --omit=dev --include-workspace-root=false \
      -w @tessera/cli -w @tessera/server -w @tessera/protocol -w @tessera/verifier -w @tessera/client \
  && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    NODE_NO_WARNINGS=1 \
    TESSERA_HOST=0.0.0.0 \
    TESSERA_PORT=8080 \
    TESSERA_DATABASE_URL=sqlite:/data/tessera.db
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY packages/protocol packages/protocol
COPY packages/verifier packages/verifier
COPY packages/server packages/server
COPY packages/cli packages/cli
# The demo page at / serves the client SDK's sources.
COPY packages/client packages/client
RUN mkdir /data && chown node:node /data
# Never root: the process only needs its port and the SQLite directory.
USER node
VOLUME /data
EXPOSE 8080
# /readyz fails while a store is down; an orchestrator takes the instance out of rotation on it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.TESSERA_PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM is handled: the server stops accepting, finishes in-flight requests and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "packages/cli/src/main.ts"]
CMD ["serve"]
