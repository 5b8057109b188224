# syntax=docker/dockerfile:1
# QuickDeal's images, one build for all four deployables. Build one with its target, from the
# repository root (the build needs the workspace's lockfile):
#
#   docker build --target ticketing -t quickdeal/ticketing .     (also: admission, payment, operator)
#
# skaffold.yaml builds all four. Without Docker, `npm run images` builds them with buildah on a
# locally made base (--build-arg NODE_IMAGE=…) and `npm run test:images` runs each with runc.
# Each image runs `node <entrypoint>` as uid 1000 with nothing to write outside /tmp, so it works
# with a read-only root filesystem; there is no HEALTHCHECK because Kubernetes probes /healthz and
# /readyz (charts/quickdeal). The chart's tests also check, without any image tool, that the files
# copied here exist, that each ENTRYPOINT is what the build produces and that the built service
# starts from it with node (charts/quickdeal/test/dockerfile.k8s.test.ts).

ARG NODE_IMAGE=node:24-slim

# The workspace's package manifests and lockfile only, so the npm ci layers stay cached until a
# dependency changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY services/core/package.json services/core/
COPY services/ticketing/package.json services/ticketing/
COPY services/admission/package.json services/admission/
COPY services/payment/package.json services/payment/
COPY operator/package.json operator/
COPY loadtest/package.json loadtest/
COPY dev/package.json dev/

# Every dependency, then the TypeScript build of the packages the images run.
FROM manifests AS build
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY services/core/tsconfig.build.json services/core/
COPY services/core/src services/core/src/
COPY services/ticketing/tsconfig.build.json services/ticketing/
COPY services/ticketing/src services/ticketing/src/
COPY services/admission/tsconfig.build.json services/admission/
COPY services/admission/src services/admission/src/
COPY services/payment/tsconfig.build.json services/payment/
COPY services/payment/src services/payment/src/
COPY operator/tsconfig.build.json operator/
COPY operator/src operator/src/
RUN npm run build --workspace=services/core --workspace=services/ticketing --workspace=services/admission --workspace=services/payment --workspace=operator

# Production dependencies only, installed afresh (nothing of the build's dev tools comes along).
FROM manifests AS production-dependencies
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# What every image holds: production node_modules, the packages' manifests and their dist/.
# Workspace packages resolve through their `default` export condition to dist/index.js.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies /app ./
COPY --from=build /app/services/core/dist services/core/dist/
COPY --from=build /app/services/ticketing/dist services/ticketing/dist/
COPY services/ticketing/public services/ticketing/public/
COPY --from=build /app/services/admission/dist services/admission/dist/
COPY --from=build /app/services/payment/dist services/payment/dist/
COPY --from=build /app/operator/dist operator/dist/
# The node user of the official image; numeric, so Kubernetes can verify runAsNonRoot.
USER 1000:1000
ENV PORT=8080
EXPOSE 8080

FROM runtime AS ticketing
ENTRYPOINT ["node", "services/ticketing/dist/main.js"]

FROM runtime AS admission
ENTRYPOINT ["node", "services/admission/dist/main.js"]

FROM runtime AS payment
ENTRYPOINT ["node", "services/payment/dist/main.js"]

FROM runtime AS operator
ENTRYPOINT ["node", "operator/dist/main.js"]
