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
	res, err := attPutScript.Run(ctx, s.rdb,
		[]string{s.keys.Room(roomID), s.keys.Attachments(roomID), s.keys.AttachmentsPending(roomID)},
		roomID, a.ID, meta, pendingUntil.UnixMilli(), time.Now().UnixMilli()).Result()
	if err != nil {
		return fail("put attachment", err)
	}
	if n, ok := res.(int64); ok && n == 0 {
		return chat.ErrRoomNotFound
	}
	// The sweep set is the partition's: the follow-up keeps it.
	return s.followReply(ctx, "put attachment", roomID, []any{res}, 0, roomEvents{})
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
// lua/attclaim.lua, run on each partition's sweep set in turn until n rooms
// are claimed.
func (s *Store) ClaimAttachmentRooms(ctx context.Context, now time.Time, lease time.Duration, n int) ([]string, error) {
	var out []string
	for p := range IndexPartitions {
		if len(out) >= n {
			break
		}
		ids, err := attClaimScript.Run(ctx, s.rdb, []string{s.keys.PartSweep(indexTags[p])},
			now.UnixMilli(), lease.Milliseconds(), n-len(out)).StringSlice()
		if err != nil {
			return out, fail("claim attachment rooms", err)
		}
		out = append(out, ids...)
	}
	return out, nil
}

// ExpireAttachments implements chat.AttachmentStore; see
// lua/attexpire.lua.
func (s *Store) ExpireAttachments(ctx context.Context, roomID string, now time.Time) (bool, []string, error) {
	res, err := attExpireScript.Run(ctx, s.rdb,
		[]string{s.keys.Room(roomID), s.keys.Attachments(roomID), s.keys.AttachmentsPending(roomID)},
		roomID, now.UnixMilli()).Slice()
	if err != nil {
		return false, nil, fail("expire attachments", err)
	}
	if len(res) == 0 {
		return false, nil, fmt.Errorf("redisstore: expire attachments: empty reply")
	}
	if res[0] == "gone" {
		return true, nil, nil
	}
	if err := s.followReply(ctx, "expire attachments", roomID, res, 1, roomEvents{}); err != nil {
		return false, nil, err
	}
	ids := make([]string, 0, len(res)-2)
	for _, v := range res[2:] {
		id, _ := v.(string)
		ids = append(ids, id)
	}
	return false, ids, nil
}

// ForgetAttachmentRoom implements chat.AttachmentStore: the room's keys,
// then its entry in its partition's sweep set (two slots, in that order:
// a crash between them leaves the room due again, and the sweeper finds
// nothing left to delete).
func (s *Store) ForgetAttachmentRoom(ctx context.Context, roomID string) error {
	if err := s.rdb.Del(ctx, s.keys.Attachments(roomID), s.keys.AttachmentsPending(roomID)).Err(); err != nil {
		return fail("forget attachment room", err)
	}
	if err := s.rdb.ZRem(ctx, s.keys.PartSweep(indexTags[PartitionOf(roomID)]), roomID).Err(); err != nil {
		return fail("forget attachment room", err)
	}
	return nil
}
