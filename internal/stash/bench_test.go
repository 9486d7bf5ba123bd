package stash

import (
	"fmt"
	"testing"
)

const benchRecords = 100_000

// benchSet opens a Set whose /notes collection holds n records with n/100
// owners (100 records per owner), in the default store for bbolt or in a
// memory store.
func benchSet(b *testing.B, driver string, n int) *Set {
	b.Helper()
	opts := Options{NoSync: true, Collections: []CollectionSpec{{Path: "/notes", Schema: mustSchema(b, notesSchema)}}}
	if driver == DriverMemory {
		opts.Stores = []StoreSpec{{Name: "/s", Driver: driver}}
		opts.Collections[0].Store = "/s"
	}
	s := openSet(b, opts)
	fill(b, s, "/notes", n, max(n/100, 1))
	return s
}

func BenchmarkGet(b *testing.B) {
	for _, driver := range []string{DriverBbolt, DriverMemory} {
		b.Run(driver, func(b *testing.B) {
			s := benchSet(b, driver, benchRecords)
			i := 0
			for b.Loop() {
				id := fmt.Sprintf("r%07d", (i*7919)%benchRecords)
				if _, err := s.Session().Get("/notes", id, ReadOptions{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkCreate is one command per op: a session with one Create, then a
// group commit of that session alone (NoSync).
func BenchmarkCreate(b *testing.B) {
	for _, driver := range []string{DriverBbolt, DriverMemory} {
		b.Run(driver, func(b *testing.B) {
			s := benchSet(b, driver, benchRecords)
			i := 0
			for b.Loop() {
				ss := s.Session()
				rec := Record{"title": "bench", "owner": fmt.Sprint("o", i%1000), "email": fmt.Sprint("u", i, "@x.io")}
				if _, err := ss.Create("/notes", rec); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Commit(ss); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkListWhere lists the 100 records of one owner through the index;
// its cost does not grow with the collection (1k vs 100k records).
func BenchmarkListWhere(b *testing.B) {
	for _, driver := range []string{DriverBbolt, DriverMemory} {
		for _, n := range []int{1_000, benchRecords} {
			b.Run(fmt.Sprintf("%s/%dk", driver, n/1000), func(b *testing.B) {
				s := benchSet(b, driver, n)
				owners := n / 100
				i := 0
				for b.Loop() {
					recs, err := s.Session().List("/notes", ListOptions{Where: map[string]any{"owner": fmt.Sprint("o", i%owners)}})
					if err != nil || len(recs) != 100 {
						b.Fatalf("List()=%d records, %v, want 100", len(recs), err)
					}
					i++
				}
			})
		}
	}
}
