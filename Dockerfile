# cardspool: one static-ish binary on Debian slim. Build: docker build -t cardspool .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY benches ./benches
RUN cargo build --release --locked --bin cardspool

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/cardspool --create-home cardspool \
 && install -d -o cardspool -m 0755 /var/lib/central
COPY --from=build /src/target/release/cardspool /usr/local/bin/cardspool
COPY templates /usr/share/cardspool/templates
USER cardspool
WORKDIR /var/lib/cardspool
# glibc's malloc keeps an arena per thread that decoded images; two keep the spooler's memory
# near flat however long the backlog (docs/performance.md: 127 MiB with 100,000 jobs waiting
# instead of 191).
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["cardspool"]
CMD ["run"]
