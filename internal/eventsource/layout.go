package eventsource

import (
	"encoding/binary"

	"go.etcd.io/bbolt"
)

// The log keeps two top-level buckets in the default store, beside the
// stash's own:
//
//	events       seq (8 bytes, big-endian) -> event JSON
//	events_meta  "touched:<collection>"    -> seq of the last event that changed it
//	             "outbox:<name>"           -> seq of the last event the outbox sent
var (
	eventsBucket = []byte("events")
	metaBucket   = []byte("events_meta")
)

const (
	touchedPrefix = "touched:"
	outboxPrefix  = "outbox:"
)

// seqKey is the key of seq in the events bucket: keys sort in seq order and
// appends go to the end of the B+tree.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

func keySeq(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

// putSeq stores seq under key in the meta bucket.
func putSeq(b *bbolt.Bucket, key string, seq uint64) error {
	return b.Put([]byte(key), binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq))
}

// getSeq reads a seq stored by putSeq; 0 if there is none.
func getSeq(b *bbolt.Bucket, key string) uint64 { return keySeq(b.Get([]byte(key))) }

// createBuckets makes sure the log's buckets exist.
func createBuckets(tx *bbolt.Tx) error {
	for _, name := range [][]byte{eventsBucket, metaBucket} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// lastSeq is the seq of the newest event in the log, 0 if it is empty.
func lastSeq(tx *bbolt.Tx) uint64 {
	k, _ := tx.Bucket(eventsBucket).Cursor().Last()
	return keySeq(k)
}

// touched returns, by collection, the seq of the last event that changed it.
func touched(tx *bbolt.Tx) map[string]uint64 {
	out := map[string]uint64{}
	c := tx.Bucket(metaBucket).Cursor()
	prefix := []byte(touchedPrefix)
	for k, v := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == touchedPrefix; k, v = c.Next() {
		out[string(k[len(prefix):])] = keySeq(v)
	}
	return out
}
