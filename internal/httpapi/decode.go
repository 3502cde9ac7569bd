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
		var domain *chat.Error // a type's own UnmarshalJSON said what is wrong
		if errors.As(err, &domain) {
			return domain
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

// optionalInt reads an optional integer query parameter into *dst, which it
// leaves nil when the parameter is absent; a parameter that is not a decimal
// integer is an error. What the value may be is the chat package's to say.
func optionalInt(c *gin.Context, name string, dst **int64) error {
	raw, ok := c.GetQuery(name)
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return chat.Errorf(chat.CodeInvalid, "%s must be an integer", name)
	}
	*dst = &n
	return nil
}

// messageQuery reads after, before and limit into the query they ask for.
func messageQuery(c *gin.Context) (chat.MessageQuery, error) {
	var in chat.MessagesRequest
	for _, p := range []struct {
		name string
		dst  **int64
	}{{"limit", &in.Limit}, {"after", &in.After}, {"before", &in.Before}} {
		if err := optionalInt(c, p.name, p.dst); err != nil {
			return chat.MessageQuery{}, err
		}
	}
	return in.Query()
}
