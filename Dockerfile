# The sup node image: the compiled `sup` binary alone on a slim glibc base.
#
#   docker build -t sup --build-arg SUP_COMMIT=$(git rev-parse --short=12 HEAD) .
#   docker run -d --name sup -p 8080:8080 -v sup-data:/data sup
#   docker exec sup sup code put "GET /hello" /data/hello.sxs
#   docker compose -f docker-compose.cluster.yml up -d        # two nodes over the backchannel
#
# Stage 1 builds dist/sup the way `bun run build` does (the pinned Bun comes from the npm registry,
# gcc prebuilds the standard C kernels for this platform); stage 2 holds nothing else: no Bun, no
# node_modules, no compiler. docs/binary.md explains the layout and the choices.

FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The pinned Bun and the dependencies first, so this layer is reused until the lockfile changes.
COPY package.json bun.lock .bun-version ./
COPY scripts/setup scripts/setup
RUN bash scripts/setup
COPY . .
# The build context has no .git: the commit to bake into `sup version` comes in as an argument.
ARG SUP_COMMIT=unknown
RUN SUP_COMMIT="$SUP_COMMIT" bash scripts/build --outfile /out/sup --stage-dir /tmp/sup-stage \
 && /out/sup version

FROM debian:bookworm-slim
# A fixed, unprivileged uid/gid, so a bind-mounted /data can be prepared for it (chown 10001:10001).
RUN groupadd --system --gid 10001 sup \
 && useradd --system --uid 10001 --gid sup --home-dir /data --no-create-home --shell /usr/sbin/nologin sup \
 && install -d -o sup -g sup -m 0700 /data
COPY --from=build /out/sup /usr/local/bin/sup
# Everything the node writes lives in the volume: its store and admin socket (SUP_DATA) and the
# private cache its embedded kernel libraries are extracted into (SUP_HOME), so the image itself
# can run read-only.
ENV SUP_DATA=/data \
    SUP_HOME=/data/.sup
USER sup:sup
WORKDIR /data
VOLUME ["/data"]
# 8080: HTTP (routes, /_sup/health, /_sup/metrics). 7000: the node-to-node backchannel (encrypted,
# mutually authenticated), used when the node runs with --identity (docker-compose.cluster.yml).
EXPOSE 8080 7000
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["sup", "health", "http://127.0.0.1:8080/_sup/health"]
# SIGTERM (docker stop) drains requests in flight for up to 10 s, then sup exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["sup"]
CMD ["start", "--http", "0.0.0.0:8080"]
