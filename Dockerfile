# The Tessera server image: `tessera serve` on Node.js 24, production dependencies only.
# The runtime packages run from their built dist/ (as installed from npm: Node never strips types
# under node_modules); the image holds nothing of bench/, examples/, tests or dev tools.
#
#   docker build -t tessera .
#   docker run -p 8080:8080 -v tessera-data:/data tessera                     # one instance, SQLite
#   docker run -p 8080:8080 -e TESSERA_DATABASE_URL=postgres://… \
#     -e TESSERA_REDIS_URL=redis://… tessera                                  # one of N, see docs/deployment.md

FROM node:24-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/verifier/package.json packages/verifier/
COPY packages/server/package.json packages/server/
COPY packages/cli/package.json packages/cli/
COPY packages/client/package.json packages/client/
COPY bench/package.json bench/

# dist/ of every runtime package: `npm run build` (scripts/build.ts), with the dev tools.
FROM manifests AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts scripts
COPY packages packages
RUN npm run build

FROM manifests AS deps
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
# Each package's manifest and dist/; the workspace links in node_modules/@tessera point here.
# The demo page at / serves the client SDK's dist/.
COPY --from=build /app/packages/protocol/package.json packages/protocol/
COPY --from=build /app/packages/protocol/dist packages/protocol/dist
COPY --from=build /app/packages/verifier/package.json packages/verifier/
COPY --from=build /app/packages/verifier/dist packages/verifier/dist
COPY --from=build /app/packages/client/package.json packages/client/
COPY --from=build /app/packages/client/dist packages/client/dist
COPY --from=build /app/packages/server/package.json packages/server/
COPY --from=build /app/packages/server/dist packages/server/dist
COPY --from=build /app/packages/cli/package.json packages/cli/
COPY --from=build /app/packages/cli/dist packages/cli/dist
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
ENTRYPOINT ["node", "packages/cli/dist/main.js"]
CMD ["serve"]
