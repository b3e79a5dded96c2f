// Package forge is the sandbox forge: an HTTP server that speaks the part of
// GitHub's REST API and webhooks that bowline uses, with real git
// repositories (package gitstore) served on the same address.
//
// The forge keeps its state in memory and, given a data directory, writes a
// JSON snapshot after changes so that it survives a restart. It answers with
// GitHub's JSON shapes (go-github's types), status codes and error bodies,
// pages lists with Link headers, tags GET responses with ETags (a matching
// If-None-Match gets 304 and costs nothing against the rate limit) and
// reports rate-limit headers. Callers authenticate as GitHub's do, with
// "Authorization: token T" or "Bearer T": a user's personal access token, an
// installation token, or a GitHub App's JWT. Permissions follow GitHub's
// rules: anyone may read a public repository, a private one is 404 to those
// who cannot see it, and writing needs the matching role.
//
// Start one in-process with New and serve Handler (forgetest.Start does both
// for tests), seed it from YAML with Seed, and act as any user from Go with
// As. Webhooks are delivered asynchronously, in order per hook, signed as
// GitHub signs them.
package forge
