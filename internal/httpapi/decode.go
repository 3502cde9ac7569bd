package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/chat"
)

// decodeJSON reads the request body (already bounded by limitBody) into v. The
// body must be valid UTF-8 holding one JSON object and nothing after it;
// fields of the wrong type are refused. With optional, an empty body stands
// for {}. Unknown fields are ignored so that newer clients keep working.
func decodeJSON(c *gin.Context, v any, optional bool) error {
	var body []byte
	if c.Request.Body != nil {
		b, err := io.ReadAll(c.Request.Body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return errTooLarge
			}
			return chat.Errorf(chat.CodeInvalid, "could not read the body")
		}
		body = b
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		if optional {
			return nil
		}
		return errBadJSON
	}
	if !utf8.Valid(body) {
		return errBadUTF8
	}
	if trimmed[0] != '{' {
		return errBadJSON
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return chat.Errorf(chat.CodeInvalid, "field %s has the wrong type", typeErr.Field)
		}
		return errBadJSON
	}
	return nil
}

// queryInt reads an optional integer query parameter. A present parameter
// must be a decimal integer within [min, max]; absent gives def.
func queryInt(c *gin.Context, name string, def, min, max int64) (int64, bool, error) {
	raw, ok := c.GetQuery(name)
	if !ok {
		return def, false, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < min || n > max {
		return 0, true, chat.Errorf(chat.CodeInvalid, "%s must be an integer between %d and %d", name, min, max)
	}
	return n, true, nil
}

// messageQuery reads after, before and limit. Explicit values are checked
// here (limit=0 or before=0 is a client bug, not "the default"); the Service
// checks the rest.
func messageQuery(c *gin.Context) (chat.MessageQuery, error) {
	const maxSeq = 1<<53 - 1
	limit, _, err := queryInt(c, "limit", chat.DefaultLimit, 1, chat.MaxLimit)
	if err != nil {
		return chat.MessageQuery{}, err
	}
	after, hasAfter, err := queryInt(c, "after", 0, 0, maxSeq)
	if err != nil {
		return chat.MessageQuery{}, err
	}
	before, hasBefore, err := queryInt(c, "before", 0, 1, maxSeq)
	if err != nil {
		return chat.MessageQuery{}, err
	}
	if hasAfter && hasBefore {
		return chat.MessageQuery{}, chat.Errorf(chat.CodeInvalid, "after and before cannot be combined")
	}
	return chat.MessageQuery{After: after, Before: before, Limit: int(limit)}, nil
}
