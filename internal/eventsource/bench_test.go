package eventsource

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/minimi-go/minimi/internal/stash"
)

// committers is the number of concurrent requests in the commit benchmarks.
const committers = 64

// parallel runs fn(i) for i in 0..n-1 on committers goroutines and returns
// the elapsed time.
func parallel(n int, fn func(i int)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range committers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkCommit64 commits one-record creates (default store, fsynced)
// from 64 concurrent committers: plain records like the reference's, and
// schema-validated ones with a unique index.
func BenchmarkCommit64(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		benchCommit(b, plain, func(i int) stash.Record { return stash.Record{"title": "a note of some length", "n": i} })
	})
	b.Run("unique", func(b *testing.B) {
		benchCommit(b, notes, func(i int) stash.Record {
			return stash.Record{"title": "a note of some length", "email": fmt.Sprintf("u%d@example.com", i)}
		})
	})
}

func benchCommit(b *testing.B, coll string, rec func(i int) stash.Record) {
	s := newService(b, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	elapsed := parallel(b.N, func(i int) {
		ss := s.set.Session()
		if _, err := ss.Create(coll, rec(i)); err != nil {
			b.Error(err)
			return
		}
		if _, err := s.log.Commit(b.Context(), command("POST", coll), 201, ss.Changes(), nil); err != nil {
			b.Error(err)
		}
	})
	b.StopTimer()
	st := s.log.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cmds/s")
	b.ReportMetric(float64(st.Commands)/float64(max(st.Rounds, 1)), "cmds/round")
}

// BenchmarkCommitOneFsyncEach is the reference: one bbolt Update (one
// fsync) per command, from 64 concurrent committers, writing a record and
// an event of the same sizes.
func BenchmarkCommitOneFsyncEach(b *testing.B) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "ref.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	elapsed := parallel(b.N, func(i int) {
		rec, _ := json.Marshal(map[string]any{"id": fmt.Sprint(i), "title": "a note of some length", "email": fmt.Sprintf("u%d@example.com", i)})
		err := db.Update(func(tx *bbolt.Tx) error {
			recs, err := tx.CreateBucketIfNotExists([]byte("records"))
			if err != nil {
				return err
			}
			evs, err := tx.CreateBucketIfNotExists([]byte("events"))
			if err != nil {
				return err
			}
			if err := recs.Put([]byte(fmt.Sprint(i)), rec); err != nil {
				return err
			}
			return evs.Put(binary.BigEndian.AppendUint64(nil, seq.Add(1)), rec)
		})
		if err != nil {
			b.Error(err)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cmds/s")
}

// BenchmarkOutboxLatency measures, one command at a time, the time from
// calling Commit to a NATS subscriber receiving the event.
func BenchmarkOutboxLatency(b *testing.B) {
	ns := runNATS(b)
	s := newService(b, Options{})
	sub, err := connect(b, ns.ClientURL()).SubscribeSync(SubjectPrefix + ".>")
	if err != nil {
		b.Fatal(err)
	}
	runOutbox(b, s.log, connect(b, ns.ClientURL()), OutboxOptions{})
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		ss := s.set.Session()
		if _, err := ss.Create(tags, stash.Record{"id": fmt.Sprint(i)}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.log.Commit(b.Context(), command("POST", "/tags"), 201, ss.Changes(), nil); err != nil {
			b.Fatal(err)
		}
		if _, err := sub.NextMsg(30 * time.Second); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
