package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// sseEvent is what widget/sse.js's SSEReader hands its callback.
type sseEvent struct {
	Event string `json:"event"`
	Data  string `json:"data"`
	ID    string `json:"id"`
}

// sseSplitJS feeds each case's input to a fresh SSEReader whole, split in
// two at every position, and one character at a time, then ends the stream;
// it returns, per case, the events each feeding produced.
const sseSplitJS = `(async (cases) => {
  const { SSEReader } = await import('/widget/sse.js');
  const run = (chunks) => {
    const got = [];
    const r = new SSEReader((ev) => got.push(ev));
    for (const c of chunks) r.feed(c);
    r.end();
    return got;
  };
  return cases.map((input) => {
    const out = [{ how: 'whole', got: run([input]) }];
    for (let i = 0; i <= input.length; i++) {
      out.push({ how: 'split at ' + i, got: run([input.slice(0, i), input.slice(i)]) });
    }
    out.push({ how: 'one character at a time', got: run([...input]) });
    return out;
  });
})`

// TestSSEReader checks the text/event-stream reader the widget panel and the
// console share against the WHATWG rules, with every input split at every
// position, since the network may cut a stream anywhere (a CRLF included).
func TestSSEReader(t *testing.T) {
	msg := func(data, id string) sseEvent { return sseEvent{"message", data, id} }
	tests := []struct {
		name  string
		input string
		want  []sseEvent
	}{
		{"one event", "data: hello\n\n", []sseEvent{msg("hello", "")}},
		{"type and id", "event: typing\nid: 7\ndata: {}\n\n", []sseEvent{{"typing", "{}", "7"}}},
		{"data lines joined with LF", "data: a\ndata:b\ndata:  c\n\n", []sseEvent{msg("a\nb\n c", "")}},
		{"CRLF", "data: x\r\n\r\ndata: y\r\n\r\n", []sseEvent{msg("x", ""), msg("y", "")}},
		{"CRLF inside an event", "event: t\r\ndata: a\r\ndata: b\r\n\r\n", []sseEvent{{"t", "a\nb", ""}}},
		{"CR", "data: x\r\rdata: y\r\r", []sseEvent{msg("x", ""), msg("y", "")}},
		{"mixed line ends", "data: x\r\n\rdata: y\n\r\ndata: z\r\n\n", []sseEvent{msg("x", ""), msg("y", ""), msg("z", "")}},
		{"CR then CRLF is two line ends", "data: x\r\r\n", []sseEvent{msg("x", "")}},
		{"comments skipped", ": ping\n\n: hello\ndata: z\n:\n\n", []sseEvent{msg("z", "")}},
		{"no data, no event", "event: foo\n\nid: 3\n\n\n\ndata: q\n\n", []sseEvent{msg("q", "3")}},
		{"id carries over, a bare id clears it", "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
			[]sseEvent{msg("a", "1"), msg("b", "1"), msg("c", "")}},
		{"id with NUL ignored", "id: 5\ndata: a\n\nid: 6\x00x\ndata: b\n\n", []sseEvent{msg("a", "5"), msg("b", "5")}},
		{"retry and unknown fields ignored", "retry: 1000\nfoo: bar\ndata: r\nretry\n\n", []sseEvent{msg("r", "")}},
		{"a field with no colon", "data\n\n", []sseEvent{msg("", "")}},
		{"one space stripped, colons kept", "data:  two\ndata:a:b: c\nevent:x\n\n", []sseEvent{{"x", " two\na:b: c", ""}}},
		{"empty type is message", "event:\ndata: e\n\n", []sseEvent{msg("e", "")}},
		{"type reset after each event", "event: a\ndata: 1\n\ndata: 2\n\n", []sseEvent{{"a", "1", ""}, msg("2", "")}},
		{"BOM at the start", "\ufeffdata: bom\n\n", []sseEvent{msg("bom", "")}},
		{"unfinished event dropped at the end", "data: a\n\ndata: b\nid: 9\n", []sseEvent{msg("a", "")}},
		{"unfinished line dropped at the end", "data: a\n\ndata: b", []sseEvent{msg("a", "")}},
		{"a final CR ends the event", "data: a\n\r", []sseEvent{msg("a", "")}},
		{"non-ASCII", "data: ça va? 👋\n\n", []sseEvent{msg("ça va? 👋", "")}},
	}
	inputs := make([]string, len(tests))
	for i, tt := range tests {
		inputs[i] = tt.input
	}
	arg, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}

	app := startTestApp(t, nil)
	ctx := newBrowser(t)
	log := watchBrowser(ctx)
	mustDo(t, ctx, "load a page of Parley's origin", chromedp.Navigate(app.URL+"/widget/sse.js"))
	results, err := chromedp.Run(ctx, chromedp.Evaluate[[][]struct {
		How string     `json:"how"`
		Got []sseEvent `json:"got"`
	}](sseSplitJS+"("+string(arg)+")", chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run the reader: %v", err)
	}
	if len(results) != len(tests) {
		t.Fatalf("got %d results, want %d", len(results), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range results[i] {
				if fmt.Sprint(r.Got) != fmt.Sprint(tt.want) {
					t.Errorf("%q %s: got %+v, want %+v", tt.input, r.How, r.Got, tt.want)
				}
			}
		})
	}

	t.Run("readEvents", func(t *testing.T) {
		// A fetch body cut at every byte, a multi-byte character included,
		// then a second stream on the same reader: the last event id
		// carries over, the partial event of the first does not.
		const js = `(async () => {
  const { SSEReader, readEvents } = await import('/widget/sse.js');
  const enc = new TextEncoder();
  const body = (parts) => new Response(new ReadableStream({
    start(c) { for (const p of parts) c.enqueue(p); c.close(); },
  }));
  const first = enc.encode('id: 4\ndata: é👋\n\ndata: lost');
  const out = [];
  for (let i = 0; i <= first.length; i++) {
    const got = [];
    let chunks = 0;
    const r = new SSEReader((ev) => got.push(ev));
    await readEvents(body([first.slice(0, i), first.slice(i)]), r, () => chunks++);
    await readEvents(body([enc.encode('data: next\n\n')]), r);
    out.push(JSON.stringify({ got, chunks, last: r.lastEventId }));
  }
  return [...new Set(out)];
})()`
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("readEvents: %v", err)
		}
		// Two chunks each time (an empty one included): onChunk counts what arrived.
		want := `{"got":[{"event":"message","data":"é👋","id":"4"},{"event":"message","data":"next","id":"4"}],"chunks":2,"last":"4"}`
		if strings.Join(got, "\n") != want {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), want)
		}
	})
	// A script opened as a page has no favicon link: the browser asks for one.
	log.checkClean(t, provoked{path: "/favicon.ico", text: "404"})
}
