package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// closedNow is a week whose only hours are tomorrow (UTC), 09:00-10:00: it
// is closed now, and opens tomorrow at 09:00 UTC.
func closedNow(t *testing.T) (spec string, next time.Time) {
	t.Helper()
	now := time.Now().UTC()
	tomorrow := now.AddDate(0, 0, 1)
	day := strings.ToLower(tomorrow.Weekday().String()[:3])
	y, m, d := tomorrow.Date()
	return day + " 09:00-10:00", time.Date(y, m, d, 9, 0, 0, 0, time.UTC)
}

type hoursAnswer struct {
	Hours struct {
		Timezone string              `json:"timezone"`
		Week     map[string][]string `json:"week"`
	} `json:"hours"`
	Source   string    `json:"source"`
	Open     bool      `json:"open"`
	NextOpen time.Time `json:"nextOpen"`
	Env      struct {
		Week map[string][]string `json:"week"`
	} `json:"env"`
}

func TestBusinessHoursRoutes(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		spec, next := closedNow(t)
		env, err := chat.ParseHours(spec, "UTC")
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, addr, envConfig{Hours: env})
		owner := e.adminToken()
		agent := e.agentToken("priya", "Priya")

		t.Run("the environment's hours apply until an owner saves some", func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/api/v1/admin/settings/hours", token: agent})
			want(t, r, http.StatusOK, "")
			got := decode[hoursAnswer](t, r)
			if got.Source != "env" || got.Open || !got.NextOpen.Equal(next) || got.Hours.Timezone != "UTC" {
				t.Errorf("got %s, want env hours, closed until %v", r.body, next)
			}
		})
		t.Run("the public state", func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/api/v1/hours"})
			want(t, r, http.StatusOK, "")
			var got struct {
				Open     *bool      `json:"open"`
				NextOpen *time.Time `json:"nextOpen"`
			}
			if json.Unmarshal(r.body, &got) != nil || got.Open == nil || *got.Open || got.NextOpen == nil || !got.NextOpen.Equal(next) {
				t.Errorf("got %s, want closed until %v", r.body, next)
			}
			if strings.Contains(string(r.body), "week") {
				t.Errorf("the visitors' answer holds the week: %s", r.body)
			}
		})
		t.Run("an agent may not change them", func(t *testing.T) {
			r := e.do(req{method: "PUT", path: "/api/v1/admin/settings/hours", token: agent,
				body: map[string]any{"timezone": "UTC", "week": map[string][]string{}}})
			want(t, r, http.StatusForbidden, "forbidden")
		})
		t.Run("bad hours are refused and nothing changes", func(t *testing.T) {
			for _, body := range []any{
				map[string]any{"timezone": "Mars/Olympus", "week": map[string][]string{"mon": {"09:00-17:00"}}},
				map[string]any{"timezone": "UTC", "week": map[string][]string{"mon": {"9-17"}}},
				map[string]any{"timezone": "UTC", "week": map[string][]string{"moon": {"09:00-17:00"}}},
				map[string]any{"timezone": "UTC", "week": map[string][]string{"mon": {"09:00-09:00"}}},
				map[string]any{"timezone": "UTC", "week": map[string]any{"mon": "09:00-17:00"}},
				map[string]any{"timezone": "UTC", "week": map[string][]string{"mon": strings.Split(strings.Repeat("01:00-02:00,", 9), ",")[:9]}},
				"not json",
			} {
				r := e.do(req{method: "PUT", path: "/api/v1/admin/settings/hours", token: owner, body: body})
				want(t, r, http.StatusBadRequest, "invalid_request")
			}
			got := decode[hoursAnswer](t, e.do(req{method: "GET", path: "/api/v1/admin/settings/hours", token: owner}))
			if got.Source != "env" {
				t.Errorf("source %q after refused changes, want env", got.Source)
			}
		})

		visitor, tok := e.mustRoom(nil)
		vs := e.visitorStream(visitor.ID, tok, nil)
		ev := vs.expect("presence")
		if !strings.Contains(ev.Data, `"open":false`) || !strings.Contains(ev.Data, `"nextOpen":"`+next.Format("2006-01-02T15:04:05.000Z")) {
			t.Fatalf("first presence %s, want closed until %v", ev.Data, next)
		}

		t.Run("saved hours win, and reach the visitor's stream", func(t *testing.T) {
			r := e.do(req{method: "PUT", path: "/api/v1/admin/settings/hours", token: owner,
				body: map[string]any{"timezone": "Europe/Paris", "week": map[string][]string{
					"mon": {"00:00-24:00"}, "tue": {"00:00-24:00"}, "wed": {"00:00-24:00"}, "thu": {"00:00-24:00"},
					"fri": {"00:00-24:00"}, "sat": {"00:00-24:00"}, "sun": {"00:00-24:00"}}}})
			want(t, r, http.StatusOK, "")
			got := decode[hoursAnswer](t, r)
			if got.Source != "console" || !got.Open || got.Hours.Timezone != "Europe/Paris" || got.Hours.Week["sun"][0] != "00:00-24:00" {
				t.Errorf("got %s, want the saved hours, open", r.body)
			}
			if len(got.Env.Week) != 7 {
				t.Errorf("env %v, want the environment's week beside", got.Env)
			}
			ev := vs.expect("presence")
			if !strings.Contains(ev.Data, `"open":true`) || strings.Contains(ev.Data, "nextOpen") {
				t.Errorf("presence after the change %s, want open", ev.Data)
			}
			again := decode[hoursAnswer](t, e.do(req{method: "GET", path: "/api/v1/admin/settings/hours", token: agent}))
			if again.Source != "console" || !again.Open {
				t.Errorf("read back %+v, want the saved hours", again)
			}
		})
		t.Run("a reset brings the environment's back", func(t *testing.T) {
			r := e.do(req{method: "DELETE", path: "/api/v1/admin/settings/hours", token: agent})
			want(t, r, http.StatusForbidden, "forbidden")
			r = e.do(req{method: "DELETE", path: "/api/v1/admin/settings/hours", token: owner})
			want(t, r, http.StatusOK, "")
			if got := decode[hoursAnswer](t, r); got.Source != "env" || got.Open {
				t.Errorf("got %s, want the environment's hours, closed", r.body)
			}
			if ev := vs.expect("presence"); !strings.Contains(ev.Data, `"open":false`) {
				t.Errorf("presence after the reset %s, want closed", ev.Data)
			}
		})
	})
}

func TestBusinessHoursUnsetKeepPresence(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		got := decode[hoursAnswer](t, e.do(req{method: "GET", path: "/api/v1/admin/settings/hours", token: e.adminToken()}))
		if got.Source != "none" || !got.Open {
			t.Errorf("got %+v, want none, open", got)
		}
		room, tok := e.mustRoom(nil)
		expectPresence(t, e.visitorStream(room.ID, tok, nil), false) // as in v1: no hours fields
	})
}
