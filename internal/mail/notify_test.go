package mail_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/mail"
	"github.com/parley-chat/parley/internal/mail/mailtest"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// testLease is the notifiers' lease in these tests: short, so a crashed
// notifier's rooms come back within the test, and longer than the
// embedded server's clock lags (it moves in 250 ms ticks), so "during the
// lease" is.
const testLease = time.Second

// crashingStore is a notifier's store on an instance that dies right
// after it enqueued a room's mails: the notified mark and the ack never
// reach Redis. afterEnqueue, when set, runs at that point instead (and
// then everything goes through).
type crashingStore struct {
	chat.NotifyStore
	afterEnqueue func(roomID string)
}

func (c crashingStore) MarkNotified(ctx context.Context, roomID string, kind chat.NotifyKind, seq int64) error {
	if c.afterEnqueue != nil {
		c.afterEnqueue(roomID)
		return c.NotifyStore.MarkNotified(ctx, roomID, kind, seq)
	}
	return nil
}

func (c crashingStore) AckNotify(ctx context.Context, kind chat.NotifyKind, cl chat.NotifyClaim) (bool, error) {
	if c.afterEnqueue != nil {
		return c.NotifyStore.AckNotify(ctx, kind, cl)
	}
	return false, nil
}

func newNotifier(t *testing.T, in *instance, store chat.NotifyStore) *mail.Notifier {
	t.Helper()
	n, err := mail.NewNotifier(mail.NotifierConfig{
		Service: chat.NewService(in.store, chat.Config{}), Store: store, Queue: in.queue,
		Signer: mail.NewSigner(testSecret), PublicURL: "https://chat.acme.example",
		Log: slog.New(slog.DiscardHandler), Lease: testLease,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitingRoom is a room whose visitor wrote and whose agents' mail is due.
func waitingRoom(t *testing.T, in *instance) string {
	t.Helper()
	ctx := context.Background()
	svc := chat.NewService(in.store, chat.Config{})
	r, err := svc.CreateRoom(ctx, chat.NewRoom{Name: "Ada"}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.SendVisitor(ctx, r.ID, chat.NewMessage{Content: "hello?"}, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if err := in.store.ScheduleNotify(ctx, r.ID, chat.NotifyAgents, time.Now().Add(-time.Second), ""); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// mailSetup is two instances sharing a Redis prefix and an SMTP server,
// with one agent who wants every mail; a's queue worker runs.
func mailSetup(t *testing.T, addr string) (a, b *instance, srv *mailtest.Server) {
	t.Helper()
	srv = mailtest.Start(t, mailtest.Options{})
	prefix := testPrefix()
	a = newInstance(t, addr, prefix, mustSender(t, srv, mail.STARTTLSOpportunistic), mail.QueueConfig{Consumer: "a"})
	b = newInstance(t, addr, prefix, mustSender(t, srv, mail.STARTTLSOpportunistic), mail.QueueConfig{Consumer: "b"})
	ctx := context.Background()
	if err := a.store.AddAdmin(ctx, chat.Admin{Username: "dana", PasswordHash: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.SetAdminProfile(ctx, "dana", chat.AdminProfile{Email: "dana@acme.example", Notify: chat.NotifyAlways}); err != nil {
		t.Fatal(err)
	}
	a.run(t)
	return a, b, srv
}

// pollUntil polls n until ok or 10 s.
func pollUntil(t *testing.T, n *mail.Notifier, what string, ok func() bool) {
	t.Helper()
	waitFor(t, what, 10*time.Second, func() bool {
		n.Poll(context.Background())
		return ok()
	})
}

// settle waits for the queue to empty and a little more, and checks the
// server got want mails.
func settle(t *testing.T, in *instance, srv *mailtest.Server, want int) {
	t.Helper()
	waitFor(t, "an empty queue", 10*time.Second, func() bool { return mustStats(t, in.store).Waiting == 0 })
	time.Sleep(200 * time.Millisecond)
	if got := len(srv.Received()); got != want {
		t.Fatalf("server got %d mails, want %d", got, want)
	}
}

// A notifier that crashes between taking a room and queuing its mail
// loses nothing: after the lease another instance's notifier takes the
// room, and the agent gets the mail once.
func TestNotifierCrashBeforeEnqueue(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		a, b, srv := mailSetup(t, addr)
		room := waitingRoom(t, a)
		claims, err := a.store.ClaimNotify(context.Background(), chat.NotifyAgents, time.Now(), 10, testLease)
		if err != nil || len(claims) != 1 || claims[0].RoomID != room {
			t.Fatalf("claim: got %v, %v; want [%s]", claims, err, room)
		}
		// a dies here. b, during the lease, takes nothing.
		nb := newNotifier(t, b, b.store)
		nb.Poll(context.Background())
		if st := mustStats(t, a.store); st.Waiting != 0 {
			t.Fatalf("during the lease: %d mails queued, want 0", st.Waiting)
		}
		pollUntil(t, nb, "the mail after the lease", func() bool { return len(srv.Received()) > 0 })
		for range 3 {
			time.Sleep(testLease / 2)
			nb.Poll(context.Background())
		}
		settle(t, a, srv, 1)
	})
}

// A notifier that crashes after queuing the mail and before marking and
// acknowledging it: the room comes back after the lease and is decided
// again, and the same mail id dedupes in the queue, so the agent gets it
// once.
func TestNotifierCrashAfterEnqueue(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		a, b, srv := mailSetup(t, addr)
		room := waitingRoom(t, a)
		newNotifier(t, a, crashingStore{NotifyStore: a.store}).Poll(context.Background())
		// The worker may be sending it right now (received, not yet taken off
		// the stream): what counts here is that it was queued; settle checks
		// that exactly one arrives.
		if st := mustStats(t, a.store); st.Waiting == 0 && len(srv.Received()) == 0 {
			t.Fatalf("after the crashed poll: nothing queued or sent, want the mail queued")
		}
		nb := newNotifier(t, b, b.store)
		pollUntil(t, nb, "the room taken again and marked", func() bool {
			seq, err := b.store.NotifiedSeq(context.Background(), room, chat.NotifyAgents)
			return err == nil && seq > 0
		})
		settle(t, a, srv, 1)
	})
}

// A visitor who writes again after the mail was queued and before the
// claim was acknowledged gets the agents a second mail: the new due time
// survives the ack.
func TestNotifierRescheduleDuringClaim(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		a, b, srv := mailSetup(t, addr)
		room := waitingRoom(t, a)
		svc := chat.NewService(a.store, chat.Config{})
		race := crashingStore{NotifyStore: a.store, afterEnqueue: func(roomID string) {
			ctx := context.Background()
			if _, _, err := svc.SendVisitor(ctx, roomID, chat.NewMessage{Content: "anyone?"}, "192.0.2.1"); err != nil {
				t.Error(err)
			}
			if err := b.store.ScheduleNotify(ctx, roomID, chat.NotifyAgents, time.Now().Add(-time.Second), ""); err != nil {
				t.Error(err)
			}
		}}
		newNotifier(t, a, race).Poll(context.Background())
		settle(t, a, srv, 1)
		nb := newNotifier(t, b, b.store)
		pollUntil(t, nb, "the second mail", func() bool {
			seq, err := b.store.NotifiedSeq(context.Background(), room, chat.NotifyAgents)
			return err == nil && seq == 2
		})
		settle(t, a, srv, 2)
	})
}
