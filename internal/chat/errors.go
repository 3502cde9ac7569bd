package chat

import (
	"errors"
	"fmt"
	"time"
)

// Code names a class of failure. httpapi maps each code to one HTTP status.
type Code string

// The error codes of the public API (see shared/API.md), plus CodeInternal for
// everything a client must not see the details of.
const (
	CodeInvalid      Code = "invalid_request"
	CodeUnauthorized Code = "unauthorized"
	CodeForbidden    Code = "forbidden"
	CodeRoomNotFound Code = "room_not_found"
	CodeNotFound     Code = "not_found"
	CodeTooLarge     Code = "payload_too_large"
	CodeRateLimited  Code = "rate_limited"
	CodeUnavailable  Code = "store_unavailable"
	CodeTimeout      Code = "store_timeout"
	CodeFull         Code = "store_full"
	CodeTooMany      Code = "too_many_streams"
	// CodeConflict refuses a change that clashes with what is stored (a
	// name taken, a limit reached).
	CodeConflict Code = "conflict"
	// CodeLimitReached refuses a new item over a fixed maximum (canned
	// replies, labels, a room's notes).
	CodeLimitReached Code = "limit_reached"
	CodeInternal     Code = "internal"
	// CodeLastOwner refuses a change that would leave the team without an
	// owner (demoting or removing the last one).
	CodeLastOwner Code = "last_owner"
)

// Error is the one error type of the domain. Message is safe to show to a
// client; anything that is not a *Error is reported as CodeInternal.
type Error struct {
	Code    Code
	Message string
	// Quota is set on CodeRateLimited errors: it fills Retry-After and the
	// X-RateLimit-* headers.
	Quota *Quota
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds an *Error with a formatted, client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal
// when there is none, and "" for a nil error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// StoreTrouble reports whether code is one of the store's 503s: unreachable,
// timed out or full.
func StoreTrouble(code Code) bool {
	return code == CodeUnavailable || code == CodeTimeout || code == CodeFull
}

// Frequently returned errors.
var (
	ErrRoomNotFound = &Error{Code: CodeRoomNotFound, Message: "room does not exist or has expired"}
	ErrUnavailable  = &Error{Code: CodeUnavailable, Message: "the store cannot be reached; nothing was written"}
	ErrTimeout      = &Error{Code: CodeTimeout, Message: "the store did not answer in time; a write may have been stored: retry with the same clientId"}
	ErrFull         = &Error{Code: CodeFull, Message: "the store is out of memory; nothing was written"}
	ErrBlocked      = &Error{Code: CodeForbidden, Message: "this conversation has been blocked"}
	ErrForbidden    = &Error{Code: CodeForbidden, Message: "this token may not access this room"}
	ErrUnauthorized = &Error{Code: CodeUnauthorized, Message: "missing, invalid or expired token"}
	ErrBadLogin     = &Error{Code: CodeUnauthorized, Message: "wrong username or password"}
	ErrAdminExists  = &Error{Code: CodeInvalid, Message: "an admin with this username already exists"}
	ErrAdminUnknown = &Error{Code: CodeNotFound, Message: "no admin with this username"}
	ErrNotOwner     = &Error{Code: CodeForbidden, Message: "only an owner may do this"}
	ErrLastOwner    = &Error{Code: CodeLastOwner, Message: "the team must keep an owner: make another agent owner first"}
	ErrBadPassword  = &Error{Code: CodeInvalid, Message: "currentPassword is wrong"}
)

// Quota describes the state of one rate-limit window after a request.
type Quota struct {
	Limit     int
	Remaining int
	// Reset is when the window will have room again.
	Reset time.Time
}

// RateLimited builds the error for a request over its quota.
func RateLimited(q Quota) *Error {
	return &Error{Code: CodeRateLimited, Message: "too many requests, slow down", Quota: &q}
}
