# MiniMi in a small image: a static binary on distroless, running as a
# non-root user, serving the service in /srv with its data in the /data volume.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t minimi .
#   docker run --rm -p 3000:3000 -v minimi-data:/data \
#              -e MINIMI_AUTH_SECRET=$(openssl rand -hex 32) minimi
#
# The image holds the showcase (config.json, endpoints/ and lib/ of this
# repository). To serve another service, mount it over /srv:
#
#   docker run --rm -p 3000:3000 -v "$PWD/myservice:/srv:ro" -v myservice-data:/data minimi
#
# docs/operations.md explains the volume, the environment and shutdown.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/minimi ./cmd/minimi
# The final image has no shell: make the service tree and the volume's mount
# point here.
RUN mkdir -p /out/srv /out/data && cp -r config.json endpoints lib /out/srv/

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/minimi /usr/local/bin/minimi
COPY --from=build /out/srv /srv
COPY --from=build --chown=65532:65532 /out/data /data
# data_dir is the volume. The showcase's config.json turns dev mode on for a
# laptop; the image turns it off, so tokens need MINIMI_AUTH_SECRET.
ENV MINIMI_DATA_DIR=/data MINIMI_DEV=false
USER 65532:65532
WORKDIR /srv
VOLUME ["/data"]
# 3000 is HTTP. The embedded NATS server listens on 127.0.0.1:4222 inside the
# container only; to share a bus, run NATS and set MINIMI_NATS_URL.
EXPOSE 3000 4222
ENTRYPOINT ["/usr/local/bin/minimi"]
CMD ["serve", "--dir", "/srv"]
