package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// PutAttachment implements chat.AttachmentStore; see lua/attput.lua.
func (s *Store) PutAttachment(ctx context.Context, roomID string, a chat.Attachment, pendingUntil time.Time) error {
	meta, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("redisstore: put attachment: %w", err)
	}
	n, err := attPutScript.Run(ctx, s.rdb,
		[]string{s.keys.Room(roomID), s.keys.Attachments(roomID), s.keys.AttachmentsPending(roomID), s.keys.AttachmentSweep()},
		roomID, a.ID, meta, pendingUntil.UnixMilli()).Int64()
	if err != nil {
		return fail("put attachment", err)
	}
	if n == 0 {
		return chat.ErrRoomNotFound
	}
	return nil
}

// Attachment implements chat.AttachmentStore.
func (s *Store) Attachment(ctx context.Context, roomID, id string) (chat.Attachment, error) {
	raw, err := s.rdb.HGet(ctx, s.keys.Attachments(roomID), id).Result()
	if errors.Is(err, redis.Nil) {
		return chat.Attachment{}, chat.ErrAttachmentUnknown
	}
	if err != nil {
		return chat.Attachment{}, fail("attachment", err)
	}
	var a chat.Attachment
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return chat.Attachment{}, fmt.Errorf("redisstore: attachment: %w", err)
	}
	return a, nil
}

// ClaimAttachmentRooms implements chat.AttachmentStore; see
// lua/attclaim.lua.
func (s *Store) ClaimAttachmentRooms(ctx context.Context, now time.Time, lease time.Duration, n int) ([]string, error) {
	ids, err := attClaimScript.Run(ctx, s.rdb, []string{s.keys.AttachmentSweep()},
		now.UnixMilli(), lease.Milliseconds(), n).StringSlice()
	if err != nil {
		return nil, fail("claim attachment rooms", err)
	}
	return ids, nil
}

// ExpireAttachments implements chat.AttachmentStore; see
// lua/attexpire.lua.
func (s *Store) ExpireAttachments(ctx context.Context, roomID string, now time.Time) (bool, []string, error) {
	res, err := attExpireScript.Run(ctx, s.rdb,
		[]string{s.keys.Room(roomID), s.keys.Attachments(roomID), s.keys.AttachmentsPending(roomID), s.keys.AttachmentSweep()},
		roomID, now.UnixMilli()).StringSlice()
	if err != nil {
		return false, nil, fail("expire attachments", err)
	}
	if len(res) == 0 {
		return false, nil, fmt.Errorf("redisstore: expire attachments: empty reply")
	}
	if res[0] == "gone" {
		return true, nil, nil
	}
	return false, res[1:], nil
}

// ForgetAttachmentRoom implements chat.AttachmentStore.
func (s *Store) ForgetAttachmentRoom(ctx context.Context, roomID string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.keys.Attachments(roomID), s.keys.AttachmentsPending(roomID))
		p.ZRem(ctx, s.keys.AttachmentSweep(), roomID)
		return nil
	})
	if err != nil {
		return fail("forget attachment room", err)
	}
	return nil
}
