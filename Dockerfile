# Atelier: one image for every role (api, worker, all, migrate, seed).
#   docker build -t atelier .
#   docker run -e DATABASE_URL=… -e REDIS_URL=… -e JWT_SECRET=… atelier api
# See docs/operations.md and docker-compose.yml.

# ---- build: compile TypeScript with the dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script would download CUDA provider files; the CPU build ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL_CUDA=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
# The CLI makes calls again by the SDK's retry policy (sdk/src/retries.ts, compiled with it).
COPY sdk/src ./sdk/src
RUN npx tsc -p tsconfig.json \
 # production dependencies only in the final image
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled code and production dependencies, as the unprivileged `node` user ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=4000 \
    ATELIER_METRICS_PORT=9464 \
    ATELIER_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 4000: GraphQL over HTTP and WebSocket, /metrics, /healthz, /readyz (api, all)
# 9464: /metrics, /healthz, /readyz of a standalone worker
EXPOSE 4000 9464
# Liveness on whichever port the role serves (set ATELIER_ROLE=worker for a worker container).
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "const p = process.env.ATELIER_ROLE === 'worker' ? process.env.ATELIER_METRICS_PORT : process.env.PORT; fetch('http://127.0.0.1:' + p + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# SIGTERM reaches node directly (exec form), which shuts down gracefully.
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["all"]
