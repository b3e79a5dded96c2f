// Package ghclient is bowline's GitHub client layer. It lives in scm/github
// but is named ghclient so that consumers can keep importing go-github under
// its usual name, github.
//
// The package does not wrap GitHub's API in a bowline interface. [New] builds
// a [Client] that hands out go-github clients ([Client.ForOrg]) whose HTTP
// transport carries everything bowline needs from a GitHub client:
//
//   - authentication with a personal access token or as a GitHub App, minting
//     one installation token per org and refreshing it before it expires;
//   - conditional requests: every cacheable GET is revalidated with its ETag,
//     so repeated reads come back 304, which GitHub does not count against the
//     rate limit; the cache is a bounded LRU keyed by identity, URL and Accept;
//   - identical concurrent GETs coalesced into one request;
//   - retries with exponential backoff and jitter on 5xx responses and on
//     secondary rate limits;
//   - waiting for the primary rate limit to reset instead of failing, and an
//     hourly request budget shared by every component of a process;
//   - Prometheus metrics by method, path template and status.
//
// Consumers call go-github's services (Issues, PullRequests, Repositories,
// Organizations, Search, Checks …) directly and declare the few methods they
// use as a small interface in their own package, which a *github.XService
// satisfies. That keeps every call ctx-first and typed, gives tests the real
// client against the sandbox forge, and avoids a giant client interface.
package ghclient
