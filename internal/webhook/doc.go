// Package webhook owns Parley's outgoing webhooks: the endpoints' registry
// (Service), the Standard Webhooks signature (Sign), the guarded HTTP client
// every delivery goes through (Guard: https only, no private or loopback
// targets, checked at connect time, no redirects, bounded time and body),
// and the Worker every instance runs: it reads the admin log in a consumer
// group, turns its events into webhook events queued once per endpoint,
// and delivers the queue with retries. It imports only chat and the
// standard library; redisstore implements chat.WebhookStore.
package webhook
