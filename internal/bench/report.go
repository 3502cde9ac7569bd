package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report for machines.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as tables for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "parley bench, %s\n", r.Started.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "  server:  %s\n  redis:   %s\n", r.Server, r.Redis)
	fmt.Fprintf(&b, "  machine: %d CPUs, %s, %s RAM, %s; load %s at start, %s at end\n",
		m.CPUs, m.CPUModel, m.MemTotal, m.GoVersion, m.LoadStart, m.LoadEnd)
	if r.Idle != nil {
		fmt.Fprintf(&b, "  server at start: RSS %.1f MiB, heap %.1f MiB, %d goroutines\n",
			r.Idle.RSS/(1<<20), r.Idle.HeapInuse/(1<<20), int(r.Idle.Goroutines))
	}

	if s := r.Baseline; s != nil {
		fmt.Fprintf(&b, "\nbaseline: closed loop, %d senders over %d rooms, %d alternating rounds per target\n",
			s.Concurrency, s.Rooms, s.Rounds)
		t := table(&b)
		fmt.Fprintln(t, "  target\tmsg/s\tok\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\t")
		row := func(x Throughput) {
			fmt.Fprintf(t, "  %s\t%.0f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n", x.Target, x.Throughput, x.OK,
				x.Latency.P50, x.Latency.P90, x.Latency.P99, x.Latency.Max, errText(x.Errors))
		}
		if s.Baseline != nil {
			row(*s.Baseline)
		}
		row(s.Parley)
		t.Flush()
		if s.Baseline != nil {
			fmt.Fprintf(&b, "  parley / baseline: %.1f%%\n", 100*s.Ratio)
		}
		if s.RedisPushCeiling > 0 {
			fmt.Fprintf(&b, "  raw Redis ceiling (pipelined RPUSH from one client): %.0f ops/s\n", s.RedisPushCeiling)
		}
		notes(&b, s.Notes)
	}

	if s := r.Send; s != nil {
		fmt.Fprintf(&b, "\nsend: %d visitors with their streams open, %d admin streams, target %.0f msg/s for %.0fs\n",
			s.Visitors, s.Admins, s.TargetRate, s.DurationS)
		fmt.Fprintf(&b, "  achieved %.1f msg/s: %d sent, %d stored; lost deliveries: visitor %d, admin %d; errors: %s\n",
			s.Throughput, s.Sent, s.OK, s.VisitorLost, s.AdminLost, errText(s.Errors))
		t := table(&b)
		fmt.Fprintln(t, "  latency\tcount\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
		lat(t, "send (POST → 201)", s.SendLatency)
		lat(t, "POST → visitor stream", s.VisitorDelivery)
		lat(t, "POST → admin stream", s.AdminDelivery)
		t.Flush()
		notes(&b, s.Notes)
	}

	if s := r.List; s != nil {
		fmt.Fprintf(&b, "\nlist: %d rooms seeded through the %s in %.1fs; %d rooms in the index; %d a page, one request at a time\n",
			s.Seeded, s.SeedPath, s.SeedS, s.IndexSize, s.PageSize)
		t := table(&b)
		fmt.Fprintln(t, "  page\tcount\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
		lat(t, "first", s.First)
		lat(t, "first, unread filter", s.Unread)
		lat(t, "first, unassigned view", s.View)
		if s.Middle.Count > 0 {
			lat(t, fmt.Sprintf("cursor at %d", s.MiddleDepth), s.Middle)
			lat(t, fmt.Sprintf("cursor at %d", s.DeepDepth), s.Deep)
		}
		t.Flush()
		if len(s.Errors) > 0 {
			fmt.Fprintf(&b, "  errors: %s\n", errText(s.Errors))
		}
		notes(&b, s.Notes)
	}

	if s := r.Streams; s != nil {
		fmt.Fprintf(&b, "\nstreams: %d of %d idle visitor streams open (%d source addresses); rooms created in %.1fs, streams opened in %.1fs (%d at a time)\n",
			s.Opened, s.Requested, s.SourceAddrs, s.CreateS, s.OpenS, s.OpenConcurrency)
		t := table(&b)
		fmt.Fprintln(t, "  server\tRSS MiB\theap MiB\tstack MiB\tgoroutines\topen streams\t")
		st := func(name string, x serverStats) {
			fmt.Fprintf(t, "  %s\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t\n", name, x.RSS/(1<<20), x.HeapInuse/(1<<20), x.StackInuse/(1<<20), x.Goroutines, x.OpenStreams)
		}
		st("before", s.Before)
		st("after", s.After)
		t.Flush()
		gc := "after a forced GC"
		if !s.ForcedGC {
			gc = "no forced GC: includes garbage"
		}
		fmt.Fprintf(&b, "  per stream (%s): %.1f KiB RSS, %.1f KiB Go heap + stack; open latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			gc, s.RSSPerStream/1024, s.HeapStackPerStream/1024, s.Open.P50, s.Open.P99, s.Open.Max)
		if len(s.Errors) > 0 {
			fmt.Fprintf(&b, "  errors: %s\n", errText(s.Errors))
		}
		notes(&b, s.Notes)
	}

	if len(r.Budgets) > 0 {
		fmt.Fprintf(&b, "\nbudget (docs/PERFORMANCE.md)\n")
		t := table(&b)
		for _, x := range r.Budgets {
			mark := "MET"
			if !x.Met {
				mark = "not met"
			}
			fmt.Fprintf(t, "  %s\t%s\t%s\t%s\t\n", x.What, x.Budget, x.Measured, mark)
		}
		t.Flush()
	}
	notes(&b, r.Notes)
	_, err := io.WriteString(w, b.String())
	return err
}

func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

func lat(t io.Writer, name string, l Latency) {
	fmt.Fprintf(t, "  %s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t\n", name, l.Count, l.P50, l.P90, l.P99, l.Max)
}

func errText(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func notes(b *strings.Builder, ns []string) {
	for _, n := range ns {
		fmt.Fprintf(b, "  note: %s\n", n)
	}
}
