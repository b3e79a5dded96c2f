# The bowline image: one static binary that runs the operator and the pod
# utilities (clonerefs, initupload, entrypoint, sidecar) of decorated jobs.
#
#   docker build -t bowline-ci/bowline:dev .

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/bowline ./operator

# git stays in the image: clonerefs and the merge controller shell out to it
# for the operations go-git does not cover (merges with conflict detection);
# ssh lets clonerefs clone over SSH (sshKeySecrets, sshHostFingerprints).
FROM alpine:3.22
RUN apk add --no-cache ca-certificates git openssh-client && \
    adduser -D -H -u 65532 -g bowline bowline
COPY --from=build /out/bowline /usr/local/bin/bowline
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/bowline"]
CMD ["operator"]
