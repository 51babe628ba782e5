# falco-chatops: one image for the web and worker processes (Procfile), non-root.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY blocks ./blocks
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` build needs dev tools; the build stage already compiled dist/.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY knowledge-base ./knowledge-base
COPY examples ./examples
USER node
EXPOSE 3000
# Liveness /healthz, readiness /readyz (see deploy/kubernetes).
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# web by default; run the worker with: node dist/src/main/worker.js
# The heap limit, as in the Procfile: see README (Processes and scaling) for why.
CMD ["node", "--max-old-space-size=1024", "dist/src/main/web.js"]
