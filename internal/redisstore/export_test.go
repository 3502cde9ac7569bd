package redisstore

import "testing"

// KeyPatterns gives the external tests (the slot audit) each key builder's
// pattern under the default prefix, as TestKeysDocTable reads them.
func KeyPatterns(t *testing.T) map[string]string { t.Helper(); return keyBuilders(t) }
