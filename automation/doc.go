// Package automation is bowline's webhook server: the front door for GitHub
// events. It checks each delivery's HMAC signature (a global secret, or
// per-org and per-repository secrets), bounds request sizes, queues accepted
// events in a bounded queue served by a worker pool, and runs the plugins
// enabled for the event's repository, retrying transient failures with
// backoff. On shutdown it drains the queue for a grace period and logs, by
// delivery ID, whatever it could not handle so that it can be redelivered.
//
// Push events to the repository of a ConfigRepository also ask that
// ConfigRepository to reconcile now, so a merged config change is applied
// within seconds rather than at the next poll.
//
// Run it with NewServer and Server.Start (a controller-runtime Runnable), or
// mount Server.Handler on a mux of your own; docs/webhooks.md describes the
// endpoints, status codes, flags and metrics.
package automation
