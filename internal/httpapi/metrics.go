package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/chat"

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
	behind      *prometheus.CounterVec
	mailSent    prometheus.Counter
	mailFailed  prometheus.Counter
	mailDead    prometheus.Counter
	// hooks counts webhook attempts by outcome: delivered, failed, dead.
	hooks   *prometheus.CounterVec
	handler http.Handler
}

// newMetrics registers the collectors on reg; nil means a fresh registry
// that also carries the Go runtime and process collectors. mailStats, when
// set, feeds the mail queue gauge.
func newMetrics(reg *prometheus.Registry, mailStats func(context.Context) (chat.MailQueueStats, error)) *metrics {
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
		behind: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_streams_behind_total",
			Help: "Times an admin stream fell behind a burst (its buffer was full) and read what it missed from the admin log instead of ending.",
		}, []string{"kind"}),
	}
	m.mailSent = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_mail_sent_total",
		Help: "Mails this instance's queue worker handed to the SMTP server, which accepted them.",
	})
	m.mailFailed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_mail_failed_total",
		Help: "Failed attempts to send a mail (each retry, and the last one).",
	})
	m.mailDead = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_mail_dead_total",
		Help: "Mails this instance gave up on: they are in the dead-letter list.",
	})
	m.hooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_webhook_deliveries_total",
		Help: "Webhook delivery attempts by outcome: delivered (2xx), failed (each failed attempt), dead (given up: the endpoint is now failing).",
	}, []string{"outcome"})
	reg.MustRegister(m.requests, m.duration, m.messages, m.storeErrors, m.streams, m.dropped, m.behind, m.mailSent, m.mailFailed, m.mailDead, m.hooks)
	if mailStats != nil {
		reg.MustRegister(mailQueueCollector{stats: mailStats})
	}
	m.messages.WithLabelValues("visitor")
	m.messages.WithLabelValues("admin")
	m.streams.WithLabelValues(streamVisitor)
	m.streams.WithLabelValues(streamAdmin)
	for _, kind := range []stream.Kind{stream.Visitor, stream.Admin} {
		for _, reason := range []string{stream.DropStalled, stream.DropSlow} {
			m.dropped.WithLabelValues(string(kind), reason)
		}
	}
	m.behind.WithLabelValues(string(stream.Admin))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// streamBehind counts a stream that caught up from the log after a burst.
func (m *metrics) streamBehind(kind stream.Kind) { m.behind.WithLabelValues(string(kind)).Inc() }

// streamDropped counts a stream dropped for not keeping up.
func (m *metrics) streamDropped(kind stream.Kind, reason string) {
	m.dropped.WithLabelValues(string(kind), reason).Inc()
}

// MailCounters returns the counters the mail queue reports to (mail.Metrics).
func (s *Server) MailCounters() (sent, failed, dead func()) {
	return s.metrics.mailSent.Inc, s.metrics.mailFailed.Inc, s.metrics.mailDead.Inc
}

// WebhookCounters returns the webhook worker's counters (webhook.Metrics).
func (s *Server) WebhookCounters() (delivered, failed, dead func()) {
	return s.metrics.hooks.WithLabelValues("delivered").Inc, s.metrics.hooks.WithLabelValues("failed").Inc,
		s.metrics.hooks.WithLabelValues("dead").Inc
}

var mailQueueDesc = prometheus.NewDesc("parley_mail_queue",
	"Mails in the shared queue by state: waiting (in the stream, sending included), sending (taken by a worker), retrying, dead.",
	[]string{"state"}, nil)

// mailQueueCollector reads the queue's counts from the store at each
// scrape; a store that does not answer in time yields no sample.
type mailQueueCollector struct {
	stats func(context.Context) (chat.MailQueueStats, error)
}

func (c mailQueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- mailQueueDesc }

func (c mailQueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		return
	}
	for state, n := range map[string]int64{"waiting": st.Waiting, "sending": st.Sending, "retrying": st.Retrying, "dead": st.Dead} {
		ch <- prometheus.MustNewConstMetric(mailQueueDesc, prometheus.GaugeValue, float64(n), state)
	}
}
