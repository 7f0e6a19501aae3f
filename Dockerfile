# rampart's own image: `docker build -t rampart .`, then
# `docker run --rm -v "$PWD:/src:ro" rampart` checks the current directory.
#
# Both base images are pinned by digest (tag kept for the reader); to move to
# a newer build, look the digest up with
# `docker buildx imagetools inspect <image:tag>` and change both together.
# The builder's glibc (Debian 12) is the runtime's.

FROM rust:1.95-slim-bookworm@sha256:d7482085ff5b415f84dba5647ae71606650bdef00db7aeb69f4b3d170c3e4082 AS build
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY lang lang
COPY runtime runtime
COPY compiler compiler
COPY stdlib-policies stdlib-policies
COPY tests tests
RUN cargo build --locked --release -p rampart \
    && cp target/release/rampart /rampart

FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
COPY --from=build /rampart /usr/local/bin/rampart
# distroless `nonroot`: uid 65532, no shell, no package manager.
USER 65532:65532
# rampart:ignore dockerfile.healthcheck -- a command-line tool, not a service: nothing to probe
HEALTHCHECK NONE
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/rampart"]
CMD ["check", "/src"]
