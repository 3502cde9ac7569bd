// Package chat is Parley's domain: rooms, messages, visitors and admins, the
// rules that govern them (validation, who may write what, rate limits,
// read marks, presence) and the Service that applies those rules. It also
// holds the Hub, which fans events out to this process's streams.
//
// It knows nothing of HTTP or Redis and imports only the standard library
// (cmd/parley's TestLayers enforces it). The outside world reaches it through
// the Store interfaces it declares (store.go), implemented by redisstore, and
// it answers with one error type, Error, whose Code httpapi maps to a status.
package chat
