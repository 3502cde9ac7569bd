package bench

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// sseEvent is one Server-Sent Event. Data is only valid until the next call
// to next: the reader reuses its buffer, so a hot stream allocates nothing.
type sseEvent struct {
	Name string
	ID   string
	Data []byte
}

// sseReader parses a text/event-stream as it arrives, one event at a time,
// the way a browser's EventSource (or the console's fetch reader) does.
type sseReader struct {
	r    *bufio.Reader
	line []byte // scratch for lines longer than the bufio buffer
	data []byte
}

func newSSEReader(r io.Reader, size int) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, size)}
}

// maxEventBytes bounds one event, so a broken server cannot make the load
// tool buffer without end.
const maxEventBytes = 1 << 20

var errEventTooLarge = errors.New("bench: event over 1 MiB")

// next returns the next event that carries data or a name. Comments (the
// ": ping" keep-alives) and "retry:" lines are consumed silently.
func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	s.data = s.data[:0]
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			return sseEvent{}, err
		}
		if len(line) == 0 {
			if hasData || ev.Name != "" {
				if len(s.data) > 0 && s.data[len(s.data)-1] == '\n' {
					s.data = s.data[:len(s.data)-1]
				}
				ev.Data = s.data
				if ev.Name == "" {
					ev.Name = "message"
				}
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "event":
			ev.Name = string(value)
		case "data":
			if len(s.data)+len(value) > maxEventBytes {
				return sseEvent{}, errEventTooLarge
			}
			s.data = append(s.data, value...)
			s.data = append(s.data, '\n')
			hasData = true
		case "id":
			ev.ID = string(value)
		}
	}
}

// readLine returns one line without its "\n" or "\r\n".
func (s *sseReader) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.line = append(s.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(s.line) > maxEventBytes {
				return nil, errEventTooLarge
			}
			line, err = s.r.ReadSlice('\n')
			s.line = append(s.line, line...)
		}
		line = s.line
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
