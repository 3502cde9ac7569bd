package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley/internal/stream"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	messages    *prometheus.CounterVec
	storeErrors prometheus.Counter
	streams     *prometheus.GaugeVec
	dropped     *prometheus.CounterVec
	handler     http.Handler
}

// newMetrics registers the collectors on reg; nil means a fresh registry
// that also carries the Go runtime and process collectors.
func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total",
			Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_http_request_duration_seconds",
			Help:    "HTTP request duration by method, route template and status (streams: their lifetime).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 30, 300},
		}, []string{"method", "route", "status"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_messages_sent_total",
			Help: "Messages stored, by sender (repeats of a clientId are not counted).",
		}, []string{"sender"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_store_errors_total",
			Help: "Responses answered store_unavailable.",
		}),
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "parley_open_streams",
			Help: "Open event streams by kind (visitor or admin).",
		}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_streams_dropped_total",
			Help: "Event streams dropped by kind and reason: stalled (a write made no progress in time) or slow (too far behind, dropped by the hub).",
		}, []string{"kind", "reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.messages, m.storeErrors, m.streams, m.dropped)
	m.messages.WithLabelValues("visitor")
	m.messages.WithLabelValues("admin")
	m.streams.WithLabelValues(streamVisitor)
	m.streams.WithLabelValues(streamAdmin)
	for _, kind := range []stream.Kind{stream.Visitor, stream.Admin} {
		for _, reason := range []string{stream.DropStalled, stream.DropSlow} {
			m.dropped.WithLabelValues(string(kind), reason)
		}
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// streamDropped counts a stream dropped for not keeping up.
func (m *metrics) streamDropped(kind stream.Kind, reason string) {
	m.dropped.WithLabelValues(string(kind), reason).Inc()
}
