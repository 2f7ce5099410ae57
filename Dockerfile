# One image for every Waggle program (gateway, registry, node-agent, cli). The service
# picks the program with its command, e.g. (docker-compose.yml does this):
#   node apps/gateway/dist/main.js
#   node apps/registry/dist/main.js
#   node apps/cli/dist/main.js init-deploy --dir /secrets
# The image holds no secret and no default password: they come at run time through
# WAGGLE_*_FILE variables (a volume written by `init-deploy`, or Docker secrets).

# Node 24 LTS, Debian 12 slim (the same base in both stages).

# --- build: install exactly what package-lock.json says, compile every workspace -------
FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
# The whole tree is copied before `npm ci` (not only package.json files): npm links each
# workspace (libs/*, apps/*) into node_modules/@waggle/* and needs their folders.
COPY . .
RUN npm ci
RUN npm run build

# --- runtime ---------------------------------------------------------------------------
# `npm prune --omit=dev` is not used: with npm workspaces it drops and relinks the
# node_modules/@waggle/* symlinks. The built tree is copied as it is, owned by root and
# read-only for the `node` user that runs it.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    WAGGLE_HOST=0.0.0.0 \
    WAGGLE_METRICS_HOST=0.0.0.0
COPY --from=build /app /app
# `waggle` on PATH (the same entry point as `npx waggle`), and /secrets owned by `node`,
# so an empty named volume mounted there is writable by `init-deploy`.
RUN ln -s /app/apps/cli/bin/waggle.js /usr/local/bin/waggle \
 && install -d -o node -g node -m 0700 /secrets
USER node
EXPOSE 3000 9101
# No default program with secrets: without a command the image prints the CLI's help.
CMD ["node", "apps/cli/dist/main.js", "--help"]
