# One image for every Roundtable process: the coordinator (default) and the signer node CLI.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY libs libs
COPY bench bench
COPY scripts scripts
# tsc to dist/, then Vite (a devDependency, present until the prune) builds the web console to dist/console.
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
# DATA_DIR: the embedded database (when DATABASE_URL is unset), in a directory the `node` user owns.
ENV NODE_ENV=production DATA_DIR=/app/data
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
# dist/ holds the web console too (dist/console, served at /console).
COPY --from=build /app/dist dist
COPY migrations migrations
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
CMD ["node", "dist/apps/coordinator/src/main.js"]
