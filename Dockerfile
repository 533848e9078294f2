# Multi-stage build of the release binary. Run with mappings mounted at /mappings:
#   docker build -t legacy-mcp .
#   docker run -p 8080:8080 -v "$PWD/mappings/demo:/mappings" -v "$PWD/fixtures:/fixtures" \
#     legacy-mcp --allowed-host localhost:8080
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin legacy-mcp

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 legacy-mcp
COPY --from=build /src/target/release/legacy-mcp /usr/local/bin/legacy-mcp
USER legacy-mcp
EXPOSE 8080
ENV LEGACY_MCP_MAPPINGS=/mappings LEGACY_MCP_LOG=info
ENTRYPOINT ["legacy-mcp", "serve", "--http", "0.0.0.0:8080"]
