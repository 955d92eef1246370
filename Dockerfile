# irongate: a release build on Debian, run as a non-root user.
#   docker build -t irongate .
#   docker run -p 8080:8080 -e IRONGATE_ISSUER=http://127.0.0.1:8080 irongate
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock clippy.toml ./
COPY src src
COPY migrations migrations
COPY templates templates
RUN cargo build --release --locked && strip target/release/irongate

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/irongate --create-home irongate
COPY --from=build /src/target/release/irongate /usr/local/bin/irongate
USER irongate
WORKDIR /var/lib/irongate
# The keys directory exists in the image, owned by irongate, so a volume mounted on it is too.
RUN mkdir -m 700 -p /var/lib/irongate/keys
ENV IRONGATE_BIND=0.0.0.0:8080 \
    IRONGATE_KEYS_DIR=/var/lib/irongate/keys \
    IRONGATE_DATABASE_URL=sqlite:///var/lib/irongate/irongate.db \
    IRONGATE_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["irongate"]
CMD ["serve"]
