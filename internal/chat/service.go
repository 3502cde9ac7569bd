package chat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Limits are the rate limits the Service enforces; a nil Limit is off.
type Limits struct {
	Rooms    *Limit // room creations per client IP
	Messages *Limit // visitor messages per room
	Login    *Limit // login attempts per client IP and username
	Visits   *Limit // counted visits per client IP
}

// Config holds the Service's settings.
type Config struct {
	Limits Limits
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service holds every business rule of Parley. Handlers parse and respond;
// the Service decides.
type Service struct {
	store  Store
	limits Limits
	now    func() time.Time
}

// NewService returns a Service over store.
func NewService(store Store, cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, limits: cfg.Limits, now: now}
}

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
// deleted or expired, gets a new one. created tells which happened.
func (s *Service) OpenRoom(ctx context.Context, in NewRoom, resumeID, clientIP string) (r Room, created bool, err error) {
	if err := in.Normalize(); err != nil {
		return Room{}, false, err
	}
	if resumeID != "" {
		r, err := s.resumeRoom(ctx, resumeID, in)
		if !errors.Is(err, ErrRoomNotFound) {
			return r, false, err
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
	if err := s.allow(ctx, s.limits.Rooms, "rooms:"+clientIP); err != nil {
		return Room{}, err
	}
	now := Time{s.now().UTC()}
	r, err := s.store.CreateRoom(ctx, Room{
		ID: NewRoomID(), VisitorName: in.Name, VisitorEmail: in.Email, Page: in.Page,
		CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return Room{}, err
	}
	return r, nil
}

// resumeRoom is a returning visitor opening their room again. Details they
// give now fill in the ones the room does not have yet (say, an email left
// while no admin was online); details already given are kept.
func (s *Service) resumeRoom(ctx context.Context, roomID string, in NewRoom) (Room, error) {
	r, err := s.Room(ctx, roomID)
	if err != nil {
		return Room{}, err
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

// SendVisitor stores a visitor's message. created is false when clientID
// repeats an earlier send, whose message is returned.
func (s *Service) SendVisitor(ctx context.Context, roomID string, in NewMessage) (Message, bool, error) {
	if err := in.Normalize(); err != nil {
		return Message{}, false, err
	}
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
	return s.send(ctx, roomID, SenderVisitor, "", in)
}

// SendAdmin stores an admin's reply signed with author.
func (s *Service) SendAdmin(ctx context.Context, roomID, author string, in NewMessage) (Message, bool, error) {
	if err := in.Normalize(); err != nil {
		return Message{}, false, err
	}
	return s.send(ctx, roomID, SenderAdmin, author, in)
}

func (s *Service) send(ctx context.Context, roomID string, from Sender, author string, in NewMessage) (Message, bool, error) {
	now := s.now().UTC()
	return s.store.Append(ctx, Message{
		ID: NewMessageID(now), RoomID: roomID, Sender: from, Author: author,
		Content: in.Content, CreatedAt: Time{now},
	}, in.ClientID)
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

// SetBlocked blocks or unblocks a room's visitor.
func (s *Service) SetBlocked(ctx context.Context, roomID string, blocked bool) error {
	_, err := s.store.SetBlocked(ctx, roomID, blocked)
	return err
}

// DeleteRoom erases a room and everything in it.
func (s *Service) DeleteRoom(ctx context.Context, roomID string) error {
	return s.store.DeleteRoom(ctx, roomID)
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

// Login logs an admin in from clientIP with accounts. The attempt is counted
// against the login limits before the password is even looked at, so
// guessing is throttled whatever the answer. Returns invalid_request,
// rate_limited or ErrBadLogin.
func (s *Service) Login(ctx context.Context, accounts Authenticator, in Credentials, clientIP string) (Admin, error) {
	if err := in.Normalize(); err != nil {
		return Admin{}, err
	}
	if err := s.limitLogin(ctx, clientIP, in.limitKey()); err != nil {
		return Admin{}, err
	}
	return accounts.Login(ctx, in.Username, in.Password)
}

// limitLogin counts a login attempt for username from clientIP, against the
// login limit per IP and username, and three times that limit per IP alone:
// a client trying a new username each time still cannot keep bcrypt busy.
func (s *Service) limitLogin(ctx context.Context, clientIP, username string) error {
	l := s.limits.Login
	if l == nil {
		return nil
	}
	return s.allowAll(ctx,
		Window{Key: "login:" + clientIP + ":" + username, Limit: *l},
		Window{Key: "login-ip:" + clientIP, Limit: Limit{N: 3 * l.N, Per: l.Per}})
}

// RecordVisit counts a page view. Without a visitorId the visitor is told
// apart by a one-way hash of the day, the client IP and the user agent, so no
// identifier is stored in the browser or in Redis.
func (s *Service) RecordVisit(ctx context.Context, in NewVisit, clientIP, userAgent string) (VisitCount, error) {
	if err := in.Normalize(); err != nil {
		return VisitCount{}, err
	}
	if err := s.allow(ctx, s.limits.Visits, "visits:"+clientIP); err != nil {
		return VisitCount{}, err
	}
	now := s.now()
	if in.VisitorID == "" {
		sum := sha256.Sum256([]byte(DayKey(now) + "|" + clientIP + "|" + userAgent))
		in.VisitorID = hex.EncodeToString(sum[:12])
	}
	return s.store.RecordVisit(ctx, in, now)
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
