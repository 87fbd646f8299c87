# syntax=docker/dockerfile:1
# The landwatch command in a container, for deploy/k8s/ (and anywhere else):
#   docker build -t landwatch .        (or: podman build -t landwatch .)
#   docker run --rm -v "$PWD/out:/data/out" landwatch enforce --before=... --out=/data/out
# Runs as the unprivileged user landwatch (uid 10001) in /data. The Vulkan loader and Mesa's
# drivers are in the image: on a GPU node the NVIDIA container toolkit adds NVIDIA's Vulkan
# driver (with NVIDIA_DRIVER_CAPABILITIES including graphics); elsewhere Mesa's software
# Vulkan or the CPU backend does the work, with the same results. The bundled Taizhou pair
# is at /usr/share/landwatch/data/landsat_taizhou (LANDWATCH_DATA), so `landwatch enforce`
# with no options runs the demo, and every pod sees the demo's inputs at the same path.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The registry and the target folder are cache mounts (BuildKit, or podman/buildah): a
# rebuild after a source change recompiles landwatch alone.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin landwatch \
    && install -m 755 target/release/landwatch /usr/local/bin/landwatch

FROM debian:bookworm-slim
# Unpinned on purpose: bookworm's point releases replace these versions (hadolint DL3008).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libvulkan1 mesa-vulkan-drivers \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 landwatch \
    && useradd --uid 10001 --gid 10001 --home-dir /home/landwatch --create-home \
       --shell /usr/sbin/nologin landwatch \
    && install -d -o 10001 -g 10001 /data
COPY --from=build /usr/local/bin/landwatch /usr/local/bin/landwatch
COPY data/landsat_taizhou /usr/share/landwatch/data/landsat_taizhou
ENV LANDWATCH_DATA=/usr/share/landwatch/data
USER 10001:10001
WORKDIR /data
ENTRYPOINT ["landwatch"]
CMD ["--help"]
