package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/bench"
	"github.com/parley-chat/parley/internal/config"
)

// TestBench runs every scenario of `parley bench` for about a second with
// small numbers against a Parley it starts in this process, and checks that
// the report is sane. It asserts nothing about speed.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("load tool run skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	err := runBench(ctx, []string{
		"--server=inprocess", "--redis-url=", "--scenario=all", "--json",
		"--visitors=5", "--admins=2", "--rate=40", "--duration=1s", "--concurrency=4",
		"--streams=20", "--settle=100ms", "--rooms=450", "--list-requests=10", "--ceiling-ops=2000",
	}, environ(nil), &out, &errb)
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, errb.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decode the JSON report: %v\n%s", err, out.String())
	}
	if !rep.InProcess || !strings.Contains(rep.Server, "in-process") || !strings.Contains(rep.Redis, "embedded") {
		t.Errorf("got server %q, redis %q, want in-process on the embedded Redis", rep.Server, rep.Redis)
	}
	if rep.Idle == nil || rep.Idle.RSS <= 0 {
		t.Errorf("got idle stats %+v, want an RSS", rep.Idle)
	}

	b := rep.Baseline
	if b == nil || b.Baseline == nil {
		t.Fatalf("got baseline %+v, want both targets measured", b)
	}
	for _, x := range []bench.Throughput{b.Parley, *b.Baseline} {
		if x.OK == 0 || x.Throughput <= 0 || len(x.Errors) > 0 {
			t.Errorf("%s: got %d ok, %.1f msg/s, errors %v; want some and no errors", x.Target, x.OK, x.Throughput, x.Errors)
		}
		checkLatency(t, x.Target, x.Latency, int(x.OK))
	}
	if b.Ratio <= 0 || b.RedisPushCeiling <= 0 {
		t.Errorf("got ratio %.2f, raw ceiling %.0f; want both positive", b.Ratio, b.RedisPushCeiling)
	}

	s := rep.Send
	if s == nil {
		t.Fatal("no send report")
	}
	if s.OK == 0 || s.OK != s.Sent || len(s.Errors) > 0 {
		t.Errorf("send: got %d sent, %d ok, errors %v; want all of them ok", s.Sent, s.OK, s.Errors)
	}
	checkLatency(t, "send", s.SendLatency, int(s.OK))
	checkLatency(t, "visitor delivery", s.VisitorDelivery, int(s.OK))
	checkLatency(t, "admin delivery", s.AdminDelivery, int(s.OK)*2)
	if s.Lost() != 0 {
		t.Errorf("send: got %d visitor and %d admin deliveries lost, want none", s.VisitorLost, s.AdminLost)
	}

	l := rep.List
	if l == nil {
		t.Fatal("no list report")
	}
	if l.SeedPath != "store" || l.IndexSize < 450 || len(l.Errors) > 0 {
		t.Errorf("list: got seed path %q, index %d, errors %v; want store, >= 450, none", l.SeedPath, l.IndexSize, l.Errors)
	}
	for name, x := range map[string]bench.Latency{"first": l.First, "unread": l.Unread, "middle": l.Middle, "deep": l.Deep} {
		checkLatency(t, "list "+name, x, 10)
	}

	st := rep.Streams
	if st == nil {
		t.Fatal("no streams report")
	}
	if st.Opened != 20 || len(st.Errors) > 0 {
		t.Errorf("streams: got %d open, errors %v; want 20, none", st.Opened, st.Errors)
	}
	if got := st.After.OpenStreams - st.Before.OpenStreams; got != 20 {
		t.Errorf("streams: the server counts %.0f more open streams, want 20", got)
	}
	checkLatency(t, "stream open", st.Open, 20)
	if len(rep.Budgets) == 0 {
		t.Error("no budget lines")
	}
}

func checkLatency(t *testing.T, name string, l bench.Latency, count int) {
	t.Helper()
	if l.Count != count {
		t.Errorf("%s: got %d samples, want %d", name, l.Count, count)
	}
	if l.Count == 0 || l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
		t.Errorf("%s: got p50 %.3f p90 %.3f p99 %.3f max %.3f, want 0 < p50 <= p90 <= p99 <= max", name, l.P50, l.P90, l.P99, l.Max)
	}
}

// TestBenchTextReport checks the table a person reads, on one quick scenario.
func TestBenchTextReport(t *testing.T) {
	if testing.Short() {
		t.Skip("load tool run skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	err := runBench(ctx, []string{"--server=inprocess", "--redis-url=", "--scenario=send",
		"--visitors=2", "--admins=1", "--rate=20", "--duration=500ms"}, environ(nil), &out, &errb)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errb.String())
	}
	for _, want := range []string{"send: 2 visitors", "POST → visitor stream", "POST → admin stream", "budget (docs/PERFORMANCE.md)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "send:") {
		t.Errorf("no progress line on stderr: %q", errb.String())
	}
}

// TestBenchRefusesRemote checks that the tool loads only this machine
// unless told otherwise, before it sends anything.
func TestBenchRefusesRemote(t *testing.T) {
	for _, args := range [][]string{
		{"--url=http://192.0.2.10:8080"},
		{"--url=http://127.0.0.1:1", "--redis-url=redis://192.0.2.10:6379"},
	} {
		var out, errb bytes.Buffer
		err := runBench(context.Background(), args, environ(nil), &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%v: got error %v, want a refusal naming loopback", args, err)
		}
	}
	// The Redis named by the environment is held to the same rule, through
	// the environment `parley` itself is given.
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"bench", "--url=http://127.0.0.1:1"},
		environ(map[string]string{"PARLEY_REDIS_URL": "redis://192.0.2.10:6379"}), strings.NewReader(""), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("PARLEY_REDIS_URL remote: got error %v, want a refusal naming loopback", err)
	}
}

// TestBenchFlagDefaults checks that the flags naming the server's settings
// default to the environment's, and that a bad setting is named.
func TestBenchFlagDefaults(t *testing.T) {
	for _, tc := range []struct {
		name                          string
		env                           map[string]string
		redisURL, adminUser, password string
	}{
		{"empty", nil, "", "admin", ""},
		{"set", map[string]string{
			"PARLEY_REDIS_URL": "redis://127.0.0.1:6391", "PARLEY_ADMIN_USER": "ops", "PARLEY_ADMIN_PASSWORD": "benchpass1",
		}, "redis://127.0.0.1:6391", "ops", "benchpass1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(environ(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			o, err := parseBenchFlags(nil, cfg, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if o.redisURL != tc.redisURL || o.adminUser != tc.adminUser || o.adminPassword != tc.password {
				t.Errorf("got redis %q, admin %q/%q; want %q, %q/%q", o.redisURL, o.adminUser, o.adminPassword, tc.redisURL, tc.adminUser, tc.password)
			}
			o, err = parseBenchFlags([]string{"--redis-url=", "--admin-user=x", "--admin-password=y"}, cfg, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if o.redisURL != "" || o.adminUser != "x" || o.adminPassword != "y" {
				t.Errorf("flags given: got redis %q, admin %q/%q; want the flags'", o.redisURL, o.adminUser, o.adminPassword)
			}
		})
	}
	var out, errb bytes.Buffer
	err := runBench(context.Background(), nil, environ(map[string]string{"PARLEY_PPROF": "0.0.0.0:6060"}), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "PARLEY_PPROF") {
		t.Errorf("bad PARLEY_PPROF: got error %v, want one naming the variable", err)
	}
}

// environ is an environment of vars only.
func environ(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}
