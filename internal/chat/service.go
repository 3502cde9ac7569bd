package chat

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// Limits are the rate limits the Service enforces; a nil Limit is off. "Per
// client IP" is per IPLimitKey: an IPv6 client is its network.
type Limits struct {
	Rooms    *Limit // room creations per client IP
	Messages *Limit // visitor messages per room
	Login    *Limit // failed logins per client IP and username (3× per IP)
	// LoginUser is failed logins per username from any IP: after N within
	// Per, each further attempt for it waits 2^(n−N) s after the last one
	// (n the failures logged), at most MaxLoginWait; a success clears them.
	LoginUser *Limit
	Visits    *Limit // counted visits per client IP
	Uploads   *Limit // attachment uploads per visitor (room)
}

// MaxLoginWait bounds the wait LoginUser imposes between two attempts: an
// attacker guessing one username slows its admin down, never locks them out.
const MaxLoginWait = 15 * time.Minute

// Config holds the Service's settings.
type Config struct {
	Limits Limits
	// IPv6Prefix is the network size (bits) an IPv6 client is limited by;
	// 0 means DefaultIPv6Prefix.
	IPv6Prefix int
	// Notify schedules the notification mails; its zero value is off.
	Notify NotifyConfig
	// Identity checks the site's signed identities; nil is off (a signed
	// identity gets ErrIdentityOff).
	Identity IdentityVerifier
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Hours are the business hours of the environment (validated), which
	// hours saved by an owner override; unset is always open.
	Hours Hours
}

// Service holds every business rule of Parley. Handlers parse and respond;
// the Service decides.
type Service struct {
	store      Store
	limits     Limits
	ipv6Prefix int
	loginWaits []time.Duration
	notify     NotifyConfig
	identity   IdentityVerifier
	now        func() time.Time
	hours      Hours

	// salt is the visitor hashes' salt of one day, kept once read: the first
	// salt stored for a day is every instance's (VisitSalt) and never
	// changes, so asking Redis again on every page view is a wasted round
	// trip.
	salt struct {
		sync.Mutex
		day  string
		salt []byte
	}
}

// NewService returns a Service over store.
func NewService(store Store, cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	prefix := cfg.IPv6Prefix
	if prefix == 0 {
		prefix = DefaultIPv6Prefix
	}
	return &Service{store: store, limits: cfg.Limits, ipv6Prefix: prefix, loginWaits: doublingWaits(time.Second, MaxLoginWait), notify: cfg.Notify, identity: cfg.Identity, now: now, hours: cfg.Hours}
}

// doublingWaits is first, twice that, and so on, up to and ending with max.
func doublingWaits(first, max time.Duration) []time.Duration {
	var w []time.Duration
	for d := first; d < max; d *= 2 {
		w = append(w, d)
	}
	return append(w, max)
}

// ipKey is the key a client IP is limited under.
func (s *Service) ipKey(clientIP string) string { return IPLimitKey(clientIP, s.ipv6Prefix) }

// Store returns the store the service works on.
func (s *Service) Store() Store { return s.store }

// Now returns the service clock's current time.
func (s *Service) Now() time.Time { return s.now() }

// allow applies limit l to key, returning a rate_limited *Error when over.
func (s *Service) allow(ctx context.Context, l *Limit, key string) error {
	if l == nil {
		return nil
	}
	return s.allowAll(ctx, Window{Key: key, Limit: *l})
}

// allowAll applies every window at once: a request one of them refuses is
// counted in none.
func (s *Service) allowAll(ctx context.Context, windows ...Window) error {
	q, ok, err := s.store.Allow(ctx, s.now(), windows...)
	if err != nil {
		return err
	}
	if !ok {
		return RateLimited(q)
	}
	return nil
}

// OpenRoom is a visitor opening the chat. resumeID is the room of the
// visitor token they still hold ("" for none): a returning visitor resumes
// that room while it exists, and anyone else, or a visitor whose room was
// deleted or expired, gets a new one. created tells which happened. A
// blocked visitor gets ErrBlocked, whether their room is still there or not:
// a block is not lifted by asking for a new room.
//
// A signed identity (in.Identity with a signature, or in.IdentityToken) is
// checked first: a bad one is refused (unauthorized, nothing created), a good
// one opens the user's own room whatever resumeID says (see openVerified).
// An unsigned in.Identity is only a claim: the visitor is anonymous, and the
// id is kept on a new room for the team to see as unverified.
func (s *Service) OpenRoom(ctx context.Context, in NewRoom, resumeID, clientIP string) (r Room, created bool, err error) {
	if err := in.Normalize(); err != nil {
		return Room{}, false, err
	}
	if in.signed() {
		id, err := s.verifyIdentity(in)
		if err != nil {
			return Room{}, false, err
		}
		return s.openVerified(ctx, in, id, clientIP)
	}
	if resumeID != "" {
		r, err := s.resumeRoom(ctx, resumeID, in)
		if !errors.Is(err, ErrRoomNotFound) {
			return r, false, err
		}
		if err := s.refuseWasBlocked(ctx, resumeID); err != nil {
			return Room{}, false, err
		}
	}
	r, err = s.createRoom(ctx, in, clientIP)
	if err != nil {
		return Room{}, false, err
	}
	return r, true, nil
}

// CreateRoom opens a new conversation for a visitor at clientIP.
func (s *Service) CreateRoom(ctx context.Context, in NewRoom, clientIP string) (Room, error) {
	if err := in.Normalize(); err != nil {
		return Room{}, err
	}
	return s.createRoom(ctx, in, clientIP)
}

func (s *Service) createRoom(ctx context.Context, in NewRoom, clientIP string) (Room, error) {
	if err := s.refuseBlockedClient(ctx, clientIP); err != nil {
		return Room{}, err
	}
	if err := s.allow(ctx, s.limits.Rooms, "rooms:"+s.ipKey(clientIP)); err != nil {
		return Room{}, err
	}
	now := Time{s.now().UTC()}
	claimed := ""
	if in.Identity != nil {
		claimed = in.Identity.ID
	}
	r, err := s.store.CreateRoom(ctx, Room{
		ID: NewRoomID(), VisitorName: in.Name, VisitorEmail: in.Email, Page: in.Page,
		CreatedAt: now, UpdatedAt: now, ClientKey: s.ipKey(clientIP), UserID: claimed,
	})
	if err != nil {
		return Room{}, err
	}
	return r, nil
}

// resumeRoom is a returning visitor opening their room again. Details they
// give now fill in the ones the room does not have yet (say, an email left
// while no admin was online); details already given are kept. A blocked
// visitor gets ErrBlocked, and no new token.
func (s *Service) resumeRoom(ctx context.Context, roomID string, in NewRoom) (Room, error) {
	r, err := s.Room(ctx, roomID)
	if err != nil {
		return Room{}, err
	}
	if r.Blocked {
		return Room{}, ErrBlocked
	}
	if (in.Name == "" || r.VisitorName != "") && (in.Email == "" || r.VisitorEmail != "") && (in.Page == "" || r.Page != "") {
		return r, nil // nothing to fill in
	}
	return s.store.FillVisitor(ctx, roomID, in)
}

// Room returns a room or ErrRoomNotFound.
func (s *Service) Room(ctx context.Context, id string) (Room, error) {
	if !ValidRoomID(id) {
		return Room{}, ErrRoomNotFound
	}
	return s.store.Room(ctx, id)
}

// Messages returns a page of a room's messages.
func (s *Service) Messages(ctx context.Context, roomID string, q MessageQuery) ([]Message, bool, error) {
	if err := q.Validate(); err != nil {
		return nil, false, err
	}
	return s.store.Messages(ctx, roomID, q)
}

// SendVisitor stores a visitor's message from clientIP. created is false
// when clientID repeats an earlier send, whose message is returned.
// ErrBlocked when the room or the address is blocked.
func (s *Service) SendVisitor(ctx context.Context, roomID string, in NewMessage, clientIP string) (Message, bool, error) {
	if err := in.Normalize(); err != nil {
		return Message{}, false, err
	}
	// Whether the client is blocked is checked by the store as it appends
	// (one round trip for both): a blocked client's sends are refused with
	// ErrBlocked, within the rate limit like any send.
	if err := s.allow(ctx, s.limits.Messages, "messages:"+roomID); err != nil {
		// A retry of a send that was stored (its answer lost on the way)
		// gets its message back, as it would under the limit.
		if in.ClientID != "" && ErrorCode(err) == CodeRateLimited {
			if m, ok, serr := s.store.Sent(ctx, roomID, in.ClientID); serr == nil && ok {
				return m, false, nil
			}
		}
		return Message{}, false, err
	}
	return s.send(ctx, roomID, SenderVisitor, AgentRef{}, in, s.ipKey(clientIP))
}

// SendAdmin stores an admin's reply signed with author, from no agent in
// particular (it assigns nobody).
func (s *Service) SendAdmin(ctx context.Context, roomID, author string, in NewMessage) (Message, bool, error) {
	return s.SendAgent(ctx, roomID, AgentRef{DisplayName: author}, in)
}

// SendAgent stores an agent's reply, signed with their display name: an
// unassigned conversation becomes theirs.
func (s *Service) SendAgent(ctx context.Context, roomID string, by AgentRef, in NewMessage) (Message, bool, error) {
	if err := in.Normalize(); err != nil {
		return Message{}, false, err
	}
	return s.send(ctx, roomID, SenderAdmin, by, in, "")
}

func (s *Service) send(ctx context.Context, roomID string, from Sender, by AgentRef, in NewMessage, clientKey string) (Message, bool, error) {
	now := s.now().UTC()
	var atts []Attachment
	for _, id := range in.Attachments {
		atts = append(atts, Attachment{ID: id})
	}
	m, created, err := s.store.Append(ctx, Message{
		ID: NewMessageID(now), RoomID: roomID, Sender: from, Author: by.DisplayName, Agent: by.Username,
		Content: in.Content, CreatedAt: Time{now}, Attachments: atts,
	}, AppendOptions{ClientID: in.ClientID, ClientKey: clientKey})
	if err == nil && created {
		s.scheduleNotify(ctx, m)
	}
	return m, created, err
}

// VisitorRead records that the visitor has read the admins' messages up to
// in.Seq.
func (s *Service) VisitorRead(ctx context.Context, roomID string, in ReadMark) error {
	if err := in.Validate(); err != nil {
		return err
	}
	_, _, err := s.store.MarkRead(ctx, roomID, SenderVisitor, *in.Seq)
	return err
}

// AdminOpen marks a room read for admins and returns it with its latest
// messages.
func (s *Service) AdminOpen(ctx context.Context, roomID string) (Room, []Message, error) {
	r, err := s.AdminRead(ctx, roomID)
	if err != nil {
		return Room{}, nil, err
	}
	msgs, _, err := s.store.Messages(ctx, roomID, MessageQuery{Before: r.MessageCount + 1, Limit: DefaultLimit})
	if err != nil {
		return Room{}, nil, err
	}
	return r, msgs, nil
}

// AdminRead marks every message of a room read for admins, and tells the
// visitor and the other admins.
func (s *Service) AdminRead(ctx context.Context, roomID string) (Room, error) {
	r, _, err := s.store.MarkRead(ctx, roomID, SenderAdmin, 0)
	return r, err
}

// typingEvery is the least time between two typing events of one side of a
// room: clients send more often than that, and a client that sends far more
// must not flood every instance's admin streams.
const typingEvery = 2 * time.Second

// Typing tells the other side that from is typing in a room. Calls within
// typingEvery of the last event are accepted and dropped.
func (s *Service) Typing(ctx context.Context, roomID string, from Sender) error {
	if !ValidRoomID(roomID) {
		return ErrRoomNotFound
	}
	_, err := s.store.Typing(ctx, roomID, from, typingEvery)
	return err
}

// ListRooms returns a page of the admin's room list.
func (s *Service) ListRooms(ctx context.Context, q RoomQuery) (RoomPage, error) {
	if err := q.Validate(); err != nil {
		return RoomPage{}, err
	}
	return s.store.ListRooms(ctx, q)
}

// Authenticator checks an admin's password: auth.Accounts is the one Parley
// uses. Login returns ErrBadLogin for an unknown user and a wrong password
// alike.
type Authenticator interface {
	Login(ctx context.Context, username, password string) (Admin, error)
}

// Login logs an admin in from clientIP with accounts. Only failures count
// against the login limits, but the limits are checked, and the attempt
// counted, before the password is even looked at: guessing is throttled
// whatever the answer, concurrent guesses cannot overrun a limit, and a
// success gives its count back, so a correct password is never refused for
// earlier successes. Returns invalid_request, rate_limited or ErrBadLogin.
func (s *Service) Login(ctx context.Context, accounts Authenticator, in Credentials, clientIP string) (Admin, error) {
	if err := in.Normalize(); err != nil {
		return Admin{}, err
	}
	att, counted, err := s.reserveLogin(ctx, clientIP, in.limitKey())
	if err != nil {
		return Admin{}, err
	}
	adm, err := accounts.Login(ctx, in.Username, in.Password)
	if counted && !errors.Is(err, ErrBadLogin) {
		// A success, or a store failure that tested no password: not a
		// failed guess. Should the release fail, the attempt stays
		// counted as one, which errs on the safe side.
		_ = s.store.Release(ctx, att)
	}
	return adm, err
}

// reserveLogin counts a login attempt for username from clientIP, until
// Release: against the login limit per IP and username, three times that
// limit per IP alone (a client trying a new username each time still
// cannot keep bcrypt busy), and the growing waits per username from any IP
// (a client with many addresses still cannot guess one account's password
// quickly). counted is false when no login limit is on.
func (s *Service) reserveLogin(ctx context.Context, clientIP, username string) (att Attempt, counted bool, err error) {
	var windows []Window
	if l := s.limits.Login; l != nil {
		ip := s.ipKey(clientIP)
		windows = append(windows,
			Window{Key: "login:" + ip + ":" + username, Limit: *l},
			Window{Key: "login-ip:" + ip, Limit: Limit{N: 3 * l.N, Per: l.Per}})
	}
	var b *Backoff
	if l := s.limits.LoginUser; l != nil {
		b = &Backoff{Key: "login-user:" + username, Per: l.Per, Free: l.N, Waits: s.loginWaits}
	}
	if windows == nil && b == nil {
		return Attempt{}, false, nil
	}
	att, q, ok, err := s.store.Reserve(ctx, s.now(), b, windows...)
	if err != nil {
		return Attempt{}, false, err
	}
	if !ok {
		return Attempt{}, false, RateLimited(q)
	}
	return att, true, nil
}

// RecordVisit counts a page view. The visitor counted is the server's own
// name for the client (see visitorHash), which a visitorId can only split in
// at most VisitorSplits: a client making ids up cannot inflate the count.
func (s *Service) RecordVisit(ctx context.Context, in NewVisit, clientIP, userAgent string) (VisitCount, error) {
	if err := in.Normalize(); err != nil {
		return VisitCount{}, err
	}
	key := s.ipKey(clientIP)
	if err := s.allow(ctx, s.limits.Visits, "visits:"+key); err != nil {
		return VisitCount{}, err
	}
	now := s.now()
	salt, err := s.daySalt(ctx, DayKey(now))
	if err != nil {
		return VisitCount{}, err
	}
	in.VisitorID = visitorHash(salt, key, userAgent, in.VisitorID)
	return s.store.RecordVisit(ctx, in, now)
}

// daySalt returns the salt of day's visitor hashes, from Redis the first
// time this instance needs it that day.
func (s *Service) daySalt(ctx context.Context, day string) ([]byte, error) {
	s.salt.Lock()
	if s.salt.day == day {
		salt := s.salt.salt
		s.salt.Unlock()
		return salt, nil
	}
	s.salt.Unlock()
	salt, err := s.store.VisitSalt(ctx, day, newVisitSalt(), visitSaltTTL)
	if err != nil {
		return nil, err
	}
	s.salt.Lock()
	s.salt.day, s.salt.salt = day, salt
	s.salt.Unlock()
	return salt, nil
}

// VisitCount returns the public counter.
func (s *Service) VisitCount(ctx context.Context) (VisitCount, error) {
	return s.store.VisitCount(ctx, s.now())
}

// VisitReport returns the admin's visit report over the last days days;
// 0 means DefaultDays.
func (s *Service) VisitReport(ctx context.Context, days int) (VisitReport, error) {
	if days == 0 {
		days = DefaultDays
	}
	if days < 1 || days > MaxDays {
		return VisitReport{}, errDays
	}
	return s.store.VisitReport(ctx, days, s.now())
}

// AdminsOnline tells whether an admin has the console open anywhere.
func (s *Service) AdminsOnline(ctx context.Context) (bool, error) {
	return s.store.AdminsOnline(ctx)
}

// errLogID is the answer to an admin stream's Last-Event-ID that is no admin
// event id.
var errLogID = invalid("Last-Event-ID must be an admin stream's event id")

// AdminEventsAfter returns the next page of the admin logs after the
// vector id a console last saw; ok is false when it cannot resume from
// there (see Store.AdminEventsAfter), or sent the "ms-n" id of a server
// from before the logs were split, and must reload everything.
func (s *Service) AdminEventsAfter(ctx context.Context, after string) ([]Event, bool, error) {
	if IsLegacyLogID(after) {
		return nil, false, nil
	}
	if _, ok := ParseAdminVector(after); !ok {
		return nil, false, errLogID
	}
	return s.store.AdminEventsAfter(ctx, after, MaxLimit)
}

// ValidAdminResume checks an admin stream's Last-Event-ID before the
// stream starts: a vector, or the "ms-n" of before the logs were split
// (which resumes with reset).
func ValidAdminResume(after string) error {
	if _, ok := ParseAdminVector(after); !ok && !IsLegacyLogID(after) {
		return errLogID
	}
	return nil
}

// AdminLogEnd returns the id of the newest admin event, "" when none is kept.
func (s *Service) AdminLogEnd(ctx context.Context) (string, error) {
	return s.store.AdminLogEnd(ctx)
}

// errLastID is the answer to a visitor stream's lastId that is no message id.
var errLastID = invalid("lastId must be a message id")

// ValidLastID checks the message id a visitor stream was told the client
// holds at its resume point ("" = not told).
func ValidLastID(id string) error {
	if len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) {
		return errLastID
	}
	return nil
}

// ResumeHolds tells whether a visitor stream can resume after seq in room,
// for a client that holds message lastID there ("" = not told). It cannot
// when the store holds less than the client saw, or another message at that
// seq: the store came back with older data (a restart from an older dump, a
// replica promoted) and its seqs were given again to new messages. The
// client must then drop what it holds and reload, or it would skip them.
func (s *Service) ResumeHolds(ctx context.Context, room Room, seq int64, lastID string) (bool, error) {
	if seq > room.MessageCount {
		return false, nil
	}
	if lastID == "" || seq < 1 || seq < room.FirstSeq {
		return true, nil // nothing to compare: trimmed away, or not told
	}
	msgs, _, err := s.store.Messages(ctx, room.ID, MessageQuery{After: seq - 1, Limit: 1})
	if err != nil {
		return false, err
	}
	return len(msgs) == 1 && msgs[0].Seq == seq && msgs[0].ID == lastID, nil
}
