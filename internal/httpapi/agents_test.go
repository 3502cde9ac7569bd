package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

type agentAnswer struct {
	Agent    chat.Agent `json:"agent"`
	Password string     `json:"password"`
}

type loginWithRole struct {
	Token string `json:"token"`
	Admin struct {
		Username string    `json:"username"`
		Role     chat.Role `json:"role"`
	} `json:"admin"`
}

// login logs user in through the API and returns the answer.
func (e *env) login(user, password string) loginWithRole {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": user, "password": password}})
	want(e.t, r, http.StatusOK, "")
	return decode[loginWithRole](e.t, r)
}

// agentsOf reads the team with tok.
func (e *env) agentsOf(tok string) map[string]chat.Agent {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/admin/agents", token: tok})
	want(e.t, r, http.StatusOK, "")
	list := decode[struct{ Agents []chat.Agent }](e.t, r).Agents
	out := make(map[string]chat.Agent, len(list))
	for _, a := range list {
		out[a.Username] = a
	}
	return out
}

// agentEvent reads the next agent.updated event of s.
func agentEvent(t testing.TB, s *stream) chat.Agent {
	t.Helper()
	ev := s.expect("agent.updated")
	var d struct{ Agent chat.Agent }
	if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
		t.Fatalf("agent.updated %q: %v", ev.Data, err)
	}
	return d.Agent
}

// TestAgentsAPI walks the team routes as an owner and as an agent: each
// route's success and refusals, the events every console gets, a password
// reset and a removal killing the agent's token (and its stream) at once,
// and an owner made agent losing the owner's routes on the next request.
func TestAgentsAPI(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		owner := e.adminToken() // alice: created without a role, so an owner
		ownerStream := e.adminStream(owner).ignore("presence", "room")
		room, visitor := e.mustRoom(nil)

		team := e.agentsOf(owner)
		if a := team[adminUser]; len(team) != 1 || a.Role != chat.RoleOwner || a.DisplayName != adminName {
			t.Fatalf("GET /agents: got %+v, want alice alone, an owner", team)
		}

		// Create: a generated password, shown once; a chosen one.
		r := e.do(req{method: "POST", path: "/api/v1/admin/agents", token: owner,
			body: map[string]string{"username": " priya ", "displayName": "Priya Shah", "email": "priya@acme.example", "role": "agent"}})
		want(t, r, http.StatusCreated, "")
		priyaNew := decode[agentAnswer](t, r)
		if priyaNew.Agent != (chat.Agent{Username: "priya", DisplayName: "Priya Shah", Email: "priya@acme.example", Role: chat.RoleAgent}) || len(priyaNew.Password) != 20 {
			t.Fatalf("POST priya: got %+v, want priya, an agent, with a 20-character password", priyaNew)
		}
		if got := agentEvent(t, ownerStream); got.Username != "priya" || got.Role != chat.RoleAgent || got.Email != "priya@acme.example" {
			t.Fatalf("agent.updated after POST: got %+v", got)
		}
		r = e.do(req{method: "POST", path: "/api/v1/admin/agents", token: owner,
			body: map[string]string{"username": "sam", "password": "sam-chosen-pw", "role": "owner"}})
		want(t, r, http.StatusCreated, "")
		if got := decode[agentAnswer](t, r); got.Agent.Role != chat.RoleOwner || got.Agent.DisplayName != "sam" || got.Password != "sam-chosen-pw" {
			t.Fatalf("POST sam: got %+v, want an owner named sam, the chosen password answered", got)
		}
		agentEvent(t, ownerStream)

		for _, body := range []any{
			map[string]string{"username": "zed", "role": "boss"},
			map[string]string{"username": "priya"}, // taken
			map[string]string{"username": "two words"},
			map[string]string{"username": "a/b"},
			map[string]string{"username": ""},
			map[string]string{"username": "zed", "password": "short"},
			map[string]string{"username": "zed", "email": "not an address"},
			map[string]any{"username": "zed", "role": 7},
			"[]",
		} {
			r := e.do(req{method: "POST", path: "/api/v1/admin/agents", token: owner, body: body})
			want(t, r, http.StatusBadRequest, "invalid_request")
		}
		if team := e.agentsOf(owner); len(team) != 3 {
			t.Fatalf("after the bad POSTs: got %d agents, want 3", len(team))
		}

		// The agent logs in with the generated password and reads the team,
		// but manages nothing and deletes no conversation.
		priyaLogin := e.login("priya", priyaNew.Password)
		if priyaLogin.Admin.Role != chat.RoleAgent {
			t.Fatalf("priya's login: got role %q, want agent", priyaLogin.Admin.Role)
		}
		priya := priyaLogin.Token
		priyaStream := e.adminStream(priya).ignore("presence")
		if team := e.agentsOf(priya); team["sam"].Role != chat.RoleOwner || team["priya"].Email != "priya@acme.example" {
			t.Fatalf("the team as priya sees it: got %+v", team)
		}
		if me := decode[chat.AdminProfile](t, e.do(req{method: "GET", path: "/api/v1/admin/me", token: priya})); me.Role != chat.RoleAgent {
			t.Fatalf("GET /me as priya: got role %q, want agent", me.Role)
		}
		for _, rq := range []req{
			{method: "POST", path: "/api/v1/admin/agents", body: map[string]string{"username": "zed"}},
			{method: "PATCH", path: "/api/v1/admin/agents/priya", body: map[string]string{"role": "owner"}},
			{method: "PATCH", path: "/api/v1/admin/agents/sam", body: map[string]string{"role": "agent"}},
			{method: "PATCH", path: "/api/v1/admin/agents/sam", body: map[string]any{"password": true}},
			{method: "DELETE", path: "/api/v1/admin/agents/sam"},
			{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID},
		} {
			rq.token = priya
			if r := e.do(rq); r.status != http.StatusForbidden || r.errorCode() != "forbidden" {
				t.Errorf("%s %s as an agent: got %d %s, want 403 forbidden", rq.method, rq.path, r.status, r.body)
			}
		}
		if team := e.agentsOf(owner); team["priya"].Role != chat.RoleAgent || team["sam"].Role != chat.RoleOwner || len(team) != 3 {
			t.Fatalf("after the agent's refused requests: got %+v", team)
		}
		e.mustStoredRoom(room.ID)

		// A visitor token, or none, is no admin's.
		for _, rq := range []req{
			{method: "GET", path: "/api/v1/admin/agents"},
			{method: "POST", path: "/api/v1/admin/agents", body: map[string]string{"username": "zed"}},
			{method: "PATCH", path: "/api/v1/admin/agents/priya", body: map[string]string{"role": "owner"}},
			{method: "DELETE", path: "/api/v1/admin/agents/priya"},
		} {
			for _, tok := range []string{visitor, ""} {
				rq.token = tok
				if r := e.do(rq); r.status != http.StatusUnauthorized || r.errorCode() != "unauthorized" {
					t.Errorf("%s %s with token %.8q: got %d %s, want 401", rq.method, rq.path, tok, r.status, r.body)
				}
			}
		}

		// PATCH: refusals change nothing; a change reaches every console.
		for _, c := range []struct {
			path   string
			body   any
			status int
			code   string
		}{
			{"/api/v1/admin/agents/nobody", map[string]string{"displayName": "N"}, 404, "not_found"},
			{"/api/v1/admin/agents/priya", map[string]string{"role": "boss", "displayName": "P"}, 400, "invalid_request"},
			{"/api/v1/admin/agents/priya", map[string]any{"password": false}, 400, "invalid_request"},
			{"/api/v1/admin/agents/priya", map[string]any{"password": "short"}, 400, "invalid_request"},
			{"/api/v1/admin/agents/priya", map[string]any{"password": 12345678}, 400, "invalid_request"},
			{"/api/v1/admin/agents/priya", map[string]any{"email": "nope", "displayName": "P"}, 400, "invalid_request"},
		} {
			want(t, e.do(req{method: "PATCH", path: c.path, token: owner, body: c.body}), c.status, c.code)
		}
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/agents/nobody", token: owner}), 404, "not_found")
		r = e.do(req{method: "PATCH", path: "/api/v1/admin/agents/priya", token: owner, body: map[string]string{"displayName": "Priya S.", "email": ""}})
		want(t, r, http.StatusOK, "")
		if got := decode[agentAnswer](t, r); got.Agent.DisplayName != "Priya S." || got.Agent.Email != "" || got.Password != "" {
			t.Fatalf("PATCH priya: got %+v, want Priya S. without email and no password", got)
		}
		for name, s := range map[string]*stream{"owner": ownerStream, "priya": priyaStream} {
			if got := agentEvent(t, s); got.DisplayName != "Priya S." {
				t.Fatalf("%s's agent.updated: got %+v", name, got)
			}
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: priya}), 200, "") // her token stays good

		// A password reset: a new one shown once; her token dies at once,
		// and so does her stream.
		r = e.do(req{method: "PATCH", path: "/api/v1/admin/agents/priya", token: owner, body: map[string]any{"password": true}})
		want(t, r, http.StatusOK, "")
		reset := decode[agentAnswer](t, r)
		if len(reset.Password) != 20 || reset.Password == priyaNew.Password {
			t.Fatalf("password reset: got %q, want a new 20-character password", reset.Password)
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: priya}), 401, "unauthorized")
		priyaStream.expectEnd(time.Second)
		priya = e.login("priya", reset.Password).Token
		priyaStream = e.adminStream(priya).ignore("presence")

		// Roles: alice makes priya an owner and steps down herself; from
		// her next request she is an agent.
		r = e.do(req{method: "PATCH", path: "/api/v1/admin/agents/priya", token: owner, body: map[string]string{"role": "owner"}})
		want(t, r, http.StatusOK, "")
		if got := agentEvent(t, ownerStream); got.Username != "priya" || got.Role != chat.RoleOwner {
			t.Fatalf("agent.updated of the promotion: got %+v", got)
		}
		want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/agents/" + adminUser, token: owner, body: map[string]string{"role": "agent"}}), 200, "")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/agents", token: owner, body: map[string]string{"username": "zed"}}), 403, "forbidden")
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: owner}), 403, "forbidden")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/agents", token: owner}), 200, "")
		// Priya's token, issued while she was an agent, has the owner's
		// rights from the promotion on.
		want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/agents/priya", token: priya, body: map[string]string{"displayName": "Priya"}}), 200, "")

		// The last owner is kept: sam and priya are the owners now.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/agents/sam", token: priya}), 204, "")
		if ev := priyaStream.ignore("agent.updated").expect("agent.removed"); ev.Data != `{"username":"sam"}` {
			t.Fatalf("agent.removed: got %s", ev.Data)
		}
		for _, rq := range []req{
			{method: "PATCH", path: "/api/v1/admin/agents/priya", body: map[string]string{"role": "agent"}},
			{method: "DELETE", path: "/api/v1/admin/agents/priya"},
		} {
			rq.token = priya
			want(t, e.do(rq), http.StatusConflict, "last_owner")
		}
		if team := e.agentsOf(priya); team["priya"].Role != chat.RoleOwner || len(team) != 2 {
			t.Fatalf("after the refused last-owner changes: got %+v", team)
		}

		// Removing an agent kills their token and their stream at once.
		aliceStream := ownerStream
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/agents/" + adminUser, token: priya}), 204, "")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: owner}), 401, "unauthorized")
		aliceStream.expectEnd(time.Second)
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: priya}), 204, "")
	})
}

// TestRoleChangeHoldsOnEveryInstance: an owner demoted through instance A
// is refused the owner's routes on instance B on the very next request,
// and an agent promoted on A gets them on B.
func TestRoleChangeHoldsOnEveryInstance(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		prefix, secret := uniquePrefix(), []byte("0123456789abcdef0123456789abcdef")
		a := newEnv(t, addr, envConfig{Prefix: prefix, Secret: secret})
		b := newEnv(t, addr, envConfig{Prefix: prefix, Secret: secret})
		alice := a.adminToken()
		r := a.do(req{method: "POST", path: "/api/v1/admin/agents", token: alice, body: map[string]string{"username": "ben"}})
		want(t, r, http.StatusCreated, "")
		ben := b.login("ben", decode[agentAnswer](t, r).Password).Token
		create := func(tok, name string) resp {
			return b.do(req{method: "POST", path: "/api/v1/admin/agents", token: tok, body: map[string]string{"username": name}})
		}
		want(t, create(ben, "cy"), 403, "forbidden")
		want(t, a.do(req{method: "PATCH", path: "/api/v1/admin/agents/ben", token: alice, body: map[string]string{"role": "owner"}}), 200, "")
		want(t, create(ben, "cy"), 201, "")
		want(t, b.do(req{method: "PATCH", path: "/api/v1/admin/agents/ben", token: alice, body: map[string]string{"role": "agent"}}), 200, "")
		want(t, create(ben, "dee"), 403, "forbidden")
	})
}

// TestChangeOwnPassword: PATCH /api/v1/admin/me with password and
// currentPassword; a wrong or missing current password changes nothing;
// after the change the old token is refused and the answer's new one works.
func TestChangeOwnPassword(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		tok := e.login(adminUser, adminPassword).Token
		for _, body := range []map[string]any{
			{"password": "a new password"},
			{"password": "a new password", "currentPassword": ""},
			{"password": "a new password", "currentPassword": "wrong password"},
			{"password": "short", "currentPassword": adminPassword},
			{"password": "a new password", "currentPassword": adminPassword, "notify": "sometimes"},
			{"password": true, "currentPassword": adminPassword},
		} {
			want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/me", token: tok, body: body}), http.StatusBadRequest, "invalid_request")
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok}), 200, "")
		r := e.do(req{method: "PATCH", path: "/api/v1/admin/me", token: tok, body: map[string]any{"password": "a new password", "currentPassword": adminPassword, "displayName": "Alice A."}})
		want(t, r, http.StatusOK, "")
		got := decode[struct {
			chat.AdminProfile
			Token     string
			ExpiresAt *chat.Time
		}](t, r)
		if got.Token == "" || got.ExpiresAt == nil || got.DisplayName != "Alice A." || got.Role != chat.RoleOwner {
			t.Fatalf("PATCH /me with a password: got %+v, want the profile and a fresh token", got)
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok}), 401, "unauthorized")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: got.Token}), 200, "")
		e.login(adminUser, "a new password")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": adminUser, "password": adminPassword}}), 401, "unauthorized")
		// Without a password, no token in the answer.
		r = e.do(req{method: "PATCH", path: "/api/v1/admin/me", token: got.Token, body: map[string]any{"notify": "never"}})
		want(t, r, http.StatusOK, "")
		var raw map[string]any
		_ = json.Unmarshal(r.body, &raw)
		if _, ok := raw["token"]; ok {
			t.Fatalf("PATCH /me without a password answered a token: %s", r.body)
		}
	})
}
