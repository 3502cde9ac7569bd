package redisstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// The notifier's state: one due set per kind of mail (room id → due ms),
// one claimed set per kind (room id → lease end ms, Redis's clock),
// the seq each kind's last mail covered in the room hash
// (notified:agents, notified:visitor), the agents online, and the
// unsubscribe markers.

// ScheduleNotify is ZADD NX on set's due set and ZREM on clear's, one
// round trip.
func (s *Store) ScheduleNotify(ctx context.Context, roomID string, set chat.NotifyKind, due time.Time, clear chat.NotifyKind) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if set != "" {
			p.ZAddNX(ctx, s.keys.NotifyDue(string(set)), redis.Z{Score: float64(due.UnixMilli()), Member: roomID})
		}
		if clear != "" {
			p.ZRem(ctx, s.keys.NotifyDue(string(clear)), roomID)
		}
		return nil
	})
	return failIf("schedule notify", err)
}

// ClaimNotify leases the due rooms; see lua/notifyclaim.lua.
func (s *Store) ClaimNotify(ctx context.Context, kind chat.NotifyKind, now time.Time, max int, lease time.Duration) ([]chat.NotifyClaim, error) {
	keys := []string{s.keys.NotifyDue(string(kind)), s.keys.NotifyClaimed(string(kind))}
	out, err := notifyClaimScript.Run(ctx, s.rdb, keys, now.UnixMilli(), max, lease.Milliseconds()).StringSlice()
	if err != nil {
		return nil, fail("claim notify", err)
	}
	if len(out) == 0 {
		return nil, fail("claim notify", errors.New("no token in the answer"))
	}
	claims := make([]chat.NotifyClaim, 0, len(out)-1)
	for _, id := range out[1:] {
		claims = append(claims, chat.NotifyClaim{RoomID: id, Token: out[0]})
	}
	return claims, nil
}

// AckNotify drops the claim if it is still c; see lua/notifyack.lua.
func (s *Store) AckNotify(ctx context.Context, kind chat.NotifyKind, c chat.NotifyClaim) (bool, error) {
	n, err := notifyAckScript.Run(ctx, s.rdb, []string{s.keys.NotifyClaimed(string(kind))}, c.RoomID, c.Token).Int64()
	if err != nil {
		return false, fail("ack notify", err)
	}
	return n == 1, nil
}

func notifiedField(kind chat.NotifyKind) string { return "notified:" + string(kind) }

// NotifiedSeq reads the room hash's notified:KIND.
func (s *Store) NotifiedSeq(ctx context.Context, roomID string, kind chat.NotifyKind) (int64, error) {
	v, err := s.rdb.HGet(ctx, s.keys.Room(roomID), notifiedField(kind)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fail("notified seq", err)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, nil
}

// MarkNotified moves notified:KIND up; see lua/notifymark.lua.
func (s *Store) MarkNotified(ctx context.Context, roomID string, kind chat.NotifyKind, seq int64) error {
	err := notifyMarkScript.Run(ctx, s.rdb, []string{s.keys.Room(roomID)}, notifiedField(kind), seq).Err()
	return failIf("mark notified", err)
}

// AgentsHeartbeat scores each username with until (never lower) and drops
// the heartbeats that ended before now, one round trip.
func (s *Store) AgentsHeartbeat(ctx context.Context, usernames []string, now, until time.Time) error {
	key := s.keys.AgentsOnline()
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range usernames {
			p.ZAddGT(ctx, key, redis.Z{Score: float64(until.UnixMilli()), Member: u})
		}
		p.ZRemRangeByScore(ctx, key, "-inf", "("+strconv.FormatInt(now.UnixMilli(), 10))
		return nil
	})
	return failIf("agents heartbeat", err)
}

// AgentsOnline lists the usernames whose heartbeat lasts past now.
func (s *Store) AgentsOnline(ctx context.Context, now time.Time) (map[string]bool, error) {
	names, err := s.rdb.ZRangeByScore(ctx, s.keys.AgentsOnline(), &redis.ZRangeBy{Min: strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, fail("agents online", err)
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}

func (s *Store) unsubKey(roomID, username string) string {
	if username != "" {
		return s.keys.UnsubscribedAgent(username)
	}
	return s.keys.UnsubscribedVisitor(roomID)
}

// Unsubscribed tells whether the marker is there.
func (s *Store) Unsubscribed(ctx context.Context, roomID, username string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.unsubKey(roomID, username)).Result()
	if err != nil {
		return false, fail("unsubscribed", err)
	}
	return n == 1, nil
}

// SetAdminProfile; see lua/adminprofile.lua.
func (s *Store) SetAdminProfile(ctx context.Context, username string, p chat.AdminProfile) error {
	lift := "0"
	if p.Notify != "" {
		lift = "1"
	}
	n, err := adminProfileScript.Run(ctx, s.rdb, []string{s.keys.Admin(username), s.keys.UnsubscribedAgent(username), s.keys.AdminLog()},
		p.DisplayName, p.Email, string(p.Notify), lift, s.keys.Events(), agentEventHead, AdminLogLen).Int64()
	if err != nil {
		return fail("set admin profile", err)
	}
	if n == 0 {
		return chat.ErrAdminUnknown
	}
	return nil
}

// failIf is fail for an error that may be nil.
func failIf(op string, err error) error {
	if err == nil {
		return nil
	}
	return fail(op, err)
}
