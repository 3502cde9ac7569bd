package redisstore

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/lib/emit.lua
var emitLib string

// withEmit puts lua/lib/emit.lua (the room's next event, numbered and
// stamped into its outbox; its next version) before a script that makes a
// room's events or bumps its version: Redis scripts have no includes.
func withEmit(src string) string { return emitLib + src }

// The scripts run with EVALSHA and fall back to EVAL when Redis has not seen
// them (after a restart, or on a fresh server).
var (
	//go:embed lua/create.lua
	createSrc    string
	createScript = redis.NewScript(withEmit(createSrc))

	//go:embed lua/send.lua
	sendSrc    string
	sendScript = redis.NewScript(withEmit(sendSrc))

	//go:embed lua/index.lua
	indexSrc    string
	indexScript = redis.NewScript(indexSrc)

	//go:embed lua/sent.lua
	sentSrc    string
	sentScript = redis.NewScript(sentSrc)

	//go:embed lua/messages.lua
	messagesSrc    string
	messagesScript = redis.NewScript(messagesSrc)

	//go:embed lua/markread.lua
	markReadSrc    string
	markReadScript = redis.NewScript(withEmit(markReadSrc))

	//go:embed lua/block.lua
	blockSrc    string
	blockScript = redis.NewScript(withEmit(blockSrc))

	//go:embed lua/fillvisitor.lua
	fillVisitorSrc    string
	fillVisitorScript = redis.NewScript(withEmit(fillVisitorSrc))

	//go:embed lua/setvisitor.lua
	setVisitorSrc    string
	setVisitorScript = redis.NewScript(withEmit(setVisitorSrc))

	//go:embed lua/visitorpage.lua
	visitorPageSrc    string
	visitorPageScript = redis.NewScript(visitorPageSrc)

	//go:embed lua/visitorseen.lua
	visitorSeenSrc    string
	visitorSeenScript = redis.NewScript(visitorSeenSrc)

	//go:embed lua/delete.lua
	deleteSrc    string
	deleteScript = redis.NewScript(withEmit(deleteSrc))

	//go:embed lua/list.lua
	listSrc    string
	listScript = redis.NewScript(listSrc)

	//go:embed lua/visit.lua
	visitSrc    string
	visitScript = redis.NewScript(visitSrc)

	//go:embed lua/visitsalt.lua
	visitSaltSrc    string
	visitSaltScript = redis.NewScript(visitSaltSrc)

	//go:embed lua/allow.lua
	allowSrc    string
	allowScript = redis.NewScript(allowSrc)

	//go:embed lua/reserve.lua
	reserveSrc    string
	reserveScript = redis.NewScript(reserveSrc)

	//go:embed lua/release.lua
	releaseSrc    string
	releaseScript = redis.NewScript(releaseSrc)

	//go:embed lua/addadmin.lua
	addAdminSrc    string
	addAdminScript = redis.NewScript(addAdminSrc)

	//go:embed lua/updateadmin.lua
	updateAdminSrc    string
	updateAdminScript = redis.NewScript(updateAdminSrc)

	//go:embed lua/removeadmin.lua
	removeAdminSrc    string
	removeAdminScript = redis.NewScript(removeAdminSrc)

	//go:embed lua/setagent.lua
	setAgentSrc    string
	setAgentScript = redis.NewScript(setAgentSrc)

	//go:embed lua/revoke.lua
	revokeSrc    string
	revokeScript = redis.NewScript(revokeSrc)

	//go:embed lua/secret.lua
	secretSrc    string
	secretScript = redis.NewScript(secretSrc)

	//go:embed lua/typing.lua
	typingSrc    string
	typingScript = redis.NewScript(typingSrc)

	//go:embed lua/heartbeat.lua
	heartbeatSrc    string
	heartbeatScript = redis.NewScript(heartbeatSrc)

	//go:embed lua/adminsonline.lua
	adminsOnlineSrc    string
	adminsOnlineScript = redis.NewScript(adminsOnlineSrc)
)

// The notifier's scripts (notify.go).
var (
	//go:embed lua/notifyclaim.lua
	notifyClaimSrc    string
	notifyClaimScript = redis.NewScript(notifyClaimSrc)

	//go:embed lua/notifyack.lua
	notifyAckSrc    string
	notifyAckScript = redis.NewScript(notifyAckSrc)

	//go:embed lua/notifymark.lua
	notifyMarkSrc    string
	notifyMarkScript = redis.NewScript(notifyMarkSrc)

	//go:embed lua/adminprofile.lua
	adminProfileSrc    string
	adminProfileScript = redis.NewScript(adminProfileSrc)
)

// The mail queue's scripts (mailqueue.go).
var (
	//go:embed lua/mailenqueue.lua
	mailEnqueueSrc    string
	mailEnqueueScript = redis.NewScript(mailEnqueueSrc)

	//go:embed lua/mailsent.lua
	mailSentSrc    string
	mailSentScript = redis.NewScript(mailSentSrc)

	//go:embed lua/mailretry.lua
	mailRetrySrc    string
	mailRetryScript = redis.NewScript(mailRetrySrc)

	//go:embed lua/maildead.lua
	mailDeadSrc    string
	mailDeadScript = redis.NewScript(mailDeadSrc)

	//go:embed lua/mailpromote.lua
	mailPromoteSrc    string
	mailPromoteScript = redis.NewScript(mailPromoteSrc)
)

// The webhook endpoints' scripts (webhooks.go). The webhook delivery queue
// runs on the mail queue's scripts above: they take every key as KEYS.
var (
	//go:embed lua/webhookadd.lua
	webhookAddSrc    string
	webhookAddScript = redis.NewScript(webhookAddSrc)

	//go:embed lua/webhookput.lua
	webhookPutSrc    string
	webhookPutScript = redis.NewScript(webhookPutSrc)

	//go:embed lua/webhookfailing.lua
	webhookFailingSrc    string
	webhookFailingScript = redis.NewScript(webhookFailingSrc)
)

// The one-click unsubscribe of an agent (unsubscribe.go).
var (
	//go:embed lua/unsubscribeagent.lua
	unsubscribeAgentSrc    string
	unsubscribeAgentScript = redis.NewScript(unsubscribeAgentSrc)
)

// The team inbox: status, assignment, labels, notes, agents' activity
// (inbox.go).
var (
	//go:embed lua/inbox.lua
	inboxSrc    string
	inboxScript = redis.NewScript(withEmit(inboxSrc))

	//go:embed lua/note.lua
	noteSrc    string
	noteScript = redis.NewScript(withEmit(noteSrc))

	//go:embed lua/activity.lua
	activitySrc    string
	activityScript = redis.NewScript(activitySrc)

	//go:embed lua/label.lua
	labelSrc    string
	labelScript = redis.NewScript(labelSrc)

	//go:embed lua/unlabel.lua
	unlabelSrc    string
	unlabelScript = redis.NewScript(unlabelSrc)
)

// The partitioned room index (index.go): the follow-up every room write
// runs in the room's partition, the reconciler's and the migration's read
// of a room, and a verified identity's entry.
var (
	//go:embed lua/place.lua
	placeSrc    string
	placeScript = redis.NewScript(placeSrc)

	//go:embed lua/placement.lua
	placementSrc    string
	placementScript = redis.NewScript(withEmit(placementSrc))

	//go:embed lua/identity.lua
	identitySrc    string
	identityScript = redis.NewScript(identitySrc)
)

// The canned replies' scripts (canned.go).
var (
	//go:embed lua/cannedadd.lua
	cannedAddSrc    string
	cannedAddScript = redis.NewScript(cannedAddSrc)

	//go:embed lua/cannedupdate.lua
	cannedUpdateSrc    string
	cannedUpdateScript = redis.NewScript(cannedUpdateSrc)

	//go:embed lua/canneddelete.lua
	cannedDeleteSrc    string
	cannedDeleteScript = redis.NewScript(cannedDeleteSrc)
)

// The search index's own scripts (search.go); the room scripts above keep
// the index as they write.
var (
	//go:embed lua/search.lua
	searchSrc    string
	searchScript = redis.NewScript(searchSrc)

	//go:embed lua/searchhit.lua
	searchHitSrc    string
	searchHitScript = redis.NewScript(searchHitSrc)

	//go:embed lua/searchsweep.lua
	searchSweepSrc    string
	searchSweepScript = redis.NewScript(searchSweepSrc)
)

// The search index's backfill of rooms older than it (search.go).
var (
	//go:embed lua/searchbackfill.lua
	searchBackfillSrc    string
	searchBackfillScript = redis.NewScript(searchBackfillSrc)
)

// The search index's partition steps (search.go): each in one partition's
// slot, after the room's step wrote the room's terms hash.
var (
	//go:embed lua/searchput.lua
	searchPutSrc    string
	searchPutScript = redis.NewScript(searchPutSrc)

	//go:embed lua/searchdrop.lua
	searchDropSrc    string
	searchDropScript = redis.NewScript(searchDropSrc)

	//go:embed lua/searchcopy.lua
	searchCopySrc    string
	searchCopyScript = redis.NewScript(searchCopySrc)
)

// The attachments' scripts (attachments.go).
var (
	//go:embed lua/attput.lua
	attPutSrc    string
	attPutScript = redis.NewScript(withEmit(attPutSrc))

	//go:embed lua/attclaim.lua
	attClaimSrc    string
	attClaimScript = redis.NewScript(attClaimSrc)

	//go:embed lua/attexpire.lua
	attExpireSrc    string
	attExpireScript = redis.NewScript(withEmit(attExpireSrc))
)

// The API tokens (apitokens.go).
var (
	//go:embed lua/apitokenadd.lua
	apiTokenAddSrc    string
	apiTokenAddScript = redis.NewScript(apiTokenAddSrc)

	//go:embed lua/apitokenrevoke.lua
	apiTokenRevokeSrc    string
	apiTokenRevokeScript = redis.NewScript(apiTokenRevokeSrc)

	//go:embed lua/apitokenauth.lua
	apiTokenAuthSrc    string
	apiTokenAuthScript = redis.NewScript(apiTokenAuthSrc)

	//go:embed lua/apitokentouch.lua
	apiTokenTouchSrc    string
	apiTokenTouchScript = redis.NewScript(apiTokenTouchSrc)
)
