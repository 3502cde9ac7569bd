package chat

import (
	"context"
	"time"
)

// A block refuses a room's visitor every write: sends, typing, details and
// erasing the room (reads of their own conversation still work), and a new
// room for the same token. An admin may block the address the room was
// opened from too, for a bounded time: it cannot open rooms, send or type.
// The widget keeps no browser id beyond its token, so a visitor who clears
// the browser's storage is only kept out by the IP block.

// Block blocks a room's visitor and, with in.IP, the address the room was
// opened from. invalid_request for a bad duration or a room whose address is
// not known (opened before addresses were kept); ErrRoomNotFound.
func (s *Service) Block(ctx context.Context, roomID string, in BlockRequest) error {
	d, err := in.Duration()
	if err != nil {
		return err
	}
	var until time.Time
	if d > 0 {
		r, err := s.Room(ctx, roomID)
		if err != nil {
			return err
		}
		if r.ClientKey == "" {
			return invalid("the address this room was opened from is not known: block the visitor without ip")
		}
		until = s.now().Add(d)
		if err := s.store.BlockClient(ctx, r.ClientKey, until); err != nil {
			return err
		}
	}
	_, err = s.store.SetBlocked(ctx, roomID, true, until)
	return err
}

// Unblock lifts the block of a room's visitor and of the address the room was
// opened from. ErrRoomNotFound.
func (s *Service) Unblock(ctx context.Context, roomID string) error {
	r, err := s.store.SetBlocked(ctx, roomID, false, time.Time{})
	if err != nil {
		return err
	}
	if r.ClientKey == "" {
		return nil
	}
	return s.store.UnblockClient(ctx, r.ClientKey)
}

// VisitorTyping tells the admins that the visitor at clientIP is typing.
// ErrBlocked when the room or the address is blocked.
func (s *Service) VisitorTyping(ctx context.Context, roomID, clientIP string) error {
	if !ValidRoomID(roomID) {
		return ErrRoomNotFound
	}
	if err := s.refuseBlockedClient(ctx, clientIP); err != nil {
		return err
	}
	return s.Typing(ctx, roomID, SenderVisitor)
}

// DeleteRoom erases a room and everything in it, for by: the visitor of a
// blocked room gets ErrBlocked and the room stays.
func (s *Service) DeleteRoom(ctx context.Context, roomID string, by Sender) error {
	return s.store.DeleteRoom(ctx, roomID, by)
}

// refuseBlockedClient returns ErrBlocked when the address clientIP is in
// (its ClientKey) is blocked.
func (s *Service) refuseBlockedClient(ctx context.Context, clientIP string) error {
	key := s.ipKey(clientIP)
	if key == "" {
		return nil
	}
	blocked, err := s.store.ClientBlocked(ctx, key)
	if err != nil {
		return err
	}
	if blocked {
		return ErrBlocked
	}
	return nil
}

// refuseWasBlocked returns ErrBlocked when the visitor of a room that is gone
// was blocked.
func (s *Service) refuseWasBlocked(ctx context.Context, roomID string) error {
	if !ValidRoomID(roomID) {
		return nil
	}
	blocked, err := s.store.WasBlocked(ctx, roomID)
	if err != nil {
		return err
	}
	if blocked {
		return ErrBlocked
	}
	return nil
}
