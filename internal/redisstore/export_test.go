package redisstore

import "testing"

// KeyPatterns gives the external tests (the slot audit) each key builder's
// pattern under the default prefix, as TestKeysDocTable reads them.
func KeyPatterns(t *testing.T) map[string]string { t.Helper(); return keyBuilders(t) }

// IndexTag is partition p's hash tag, for the tests that look at the keys.
func IndexTag(p int) string { return indexTags[p] }

// Placement is the recorded placement of a room in its partition ("" when
// none), for the tests of the follow-up's ordering.
func (s *Store) Placement(t *testing.T, roomID string) string {
	t.Helper()
	return s.rdb.HGet(t.Context(), s.keys.PartPlace(indexTags[PartitionOf(roomID)]), roomID).Val()
}
