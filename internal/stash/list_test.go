package stash

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// listSet holds /notes with ids a01..a20; owner cycles ann, bob, cy; n = i.
func listSet(t *testing.T) *Set {
	t.Helper()
	s := notesSet(t)
	ss := s.Session()
	owners := []string{"ann", "bob", "cy"}
	for i := 1; i <= 20; i++ {
		rec := Record{"id": fmt.Sprintf("a%02d", i), "title": "t", "owner": owners[i%3], "n": i}
		if i == 4 {
			rec["email"] = "Four@Example.com"
		}
		if _, err := ss.Create("/notes", rec); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, s, ss)
	return s
}

func ids(recs []Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r[FieldID].(string))
	}
	return out
}

func idRange(from, to int, step int) []string {
	out := []string{}
	for i := from; i <= to; i += step {
		out = append(out, fmt.Sprintf("a%02d", i))
	}
	return out
}

func TestList(t *testing.T) {
	s := listSet(t)
	tests := []struct {
		name    string
		o       ListOptions
		want    []string
		visited int64 // stored records examined; -1 to skip the check
	}{
		{"all", ListOptions{}, idRange(1, 20, 1), 20},
		{"limit", ListOptions{Limit: 3}, idRange(1, 3, 1), 3},
		{"after", ListOptions{After: "a05", Limit: 3}, idRange(6, 8, 1), 3},
		{"after last", ListOptions{After: "a20"}, []string{}, 0},
		{"prefix", ListOptions{Prefix: "a1"}, idRange(10, 19, 1), 10},
		{"prefix after", ListOptions{Prefix: "a1", After: "a15"}, idRange(16, 19, 1), 4},
		{"after beyond prefix", ListOptions{Prefix: "a0", After: "a15"}, []string{}, 0},
		{"where index", ListOptions{Where: map[string]any{"owner": "ann"}}, idRange(3, 18, 3), 6},
		{"where index after limit", ListOptions{Where: map[string]any{"owner": "ann"}, After: "a06", Limit: 2}, []string{"a09", "a12"}, 2},
		{"where index prefix", ListOptions{Where: map[string]any{"owner": "bob"}, Prefix: "a1"}, []string{"a10", "a13", "a16", "a19"}, 4},
		{"where scan", ListOptions{Where: map[string]any{"n": 7}}, []string{"a07"}, 20},
		{"where index and field", ListOptions{Where: map[string]any{"owner": "cy", "n": 8}}, []string{"a08"}, 7},
		{"where unique folded", ListOptions{Where: map[string]any{"email": "FOUR@example.COM"}}, []string{"a04"}, 1},
		{"where nil", ListOptions{Where: map[string]any{"email": nil}, Limit: 4}, []string{"a01", "a02", "a03", "a05"}, 5},
		{"where nothing", ListOptions{Where: map[string]any{"owner": "zed"}}, []string{}, 0},
	}
	c := s.Collection("/notes")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := c.visited.Load()
			got, err := s.Session().List("/notes", tc.o)
			if err != nil {
				t.Fatalf("List()=%v", err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("List(%+v)=%v, want %v", tc.o, ids(got), tc.want)
			}
			if n := c.visited.Load() - before; tc.visited >= 0 && n != tc.visited {
				t.Errorf("List(%+v) examined %d stored records, want %d", tc.o, n, tc.visited)
			}
		})
	}
}

func TestListErrors(t *testing.T) {
	s := openSet(t, Options{Collections: []CollectionSpec{{Path: "/users", Schema: mustSchema(t, usersSchema)}}})
	tests := []struct {
		name string
		o    ListOptions
	}{
		{"negative limit", ListOptions{Limit: -1}},
		{"hashed field", ListOptions{Where: map[string]any{"password": "x"}}},
		{"hashed field, hidden read", ListOptions{Where: map[string]any{"password": "x"}, Hidden: true}},
		{"hidden field", ListOptions{Where: map[string]any{"pin": "1234"}}},
		{"hidden field, null", ListOptions{Where: map[string]any{"pin": nil}}},
		{"not JSON", ListOptions{Where: map[string]any{"name": make(chan int)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Session().List("/users", tc.o); !errors.Is(err, ErrInvalidQuery) {
				t.Errorf("List(%+v)=%v, want ErrInvalidQuery", tc.o, err)
			}
		})
	}
}

func TestListSeesPendingWrites(t *testing.T) {
	s := listSet(t)
	ss := s.Session()
	if _, err := ss.Create("/notes", Record{"id": "a05x", "title": "t", "owner": "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Delete("/notes", "a06", AnyVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Patch("/notes", "a07", Record{"owner": "ann"}, AnyVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Patch("/notes", "a09", Record{"owner": "bob"}, AnyVersion); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		o    ListOptions
		want []string
	}{
		{ListOptions{Where: map[string]any{"owner": "ann"}}, []string{"a03", "a05x", "a07", "a12", "a15", "a18"}},
		{ListOptions{Where: map[string]any{"owner": "ann"}, Limit: 3}, []string{"a03", "a05x", "a07"}},
		{ListOptions{After: "a04", Limit: 4}, []string{"a05", "a05x", "a07", "a08"}},
		{ListOptions{Prefix: "a05"}, []string{"a05", "a05x"}},
	}
	for _, tc := range tests {
		got, err := ss.List("/notes", tc.o)
		if err != nil || !slices.Equal(ids(got), tc.want) {
			t.Errorf("List(%+v)=%v, %v, want %v", tc.o, ids(got), err, tc.want)
		}
	}
}

// TestListWhereUsesIndex shows that an indexed Where examines only the
// matching records, however large the collection.
func TestListWhereUsesIndex(t *testing.T) {
	for _, driver := range []string{DriverBbolt, DriverMemory} {
		t.Run(driver, func(t *testing.T) {
			s := openSet(t, Options{
				NoSync:      true,
				Stores:      []StoreSpec{{Name: "/s", Driver: driver, File: fileFor(driver, "s.db")}},
				Collections: []CollectionSpec{{Path: "/notes", Store: "/s", Schema: mustSchema(t, notesSchema)}},
			})
			fill(t, s, "/notes", 2000, 100)
			c := s.Collection("/notes")
			before := c.visited.Load()
			got, err := s.Session().List("/notes", ListOptions{Where: map[string]any{"owner": "o7"}, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if n := c.visited.Load() - before; len(got) != 20 || n != 20 {
				t.Errorf("List(owner o7) returned %d and examined %d records, want 20 and 20", len(got), n)
			}
		})
	}
}

func fileFor(driver, file string) string {
	if driver == DriverMemory {
		return ""
	}
	return file
}

// fill creates n records in coll, owner "o<i mod owners>", in batches.
func fill(t testing.TB, s *Set, coll string, n, owners int) {
	t.Helper()
	ss := s.Session()
	for i := range n {
		rec := Record{"id": fmt.Sprintf("r%07d", i), "title": "t", "owner": fmt.Sprintf("o%d", i%owners)}
		if _, err := ss.Create(coll, rec); err != nil {
			t.Fatal(err)
		}
		if len(ss.Changes()) == 1000 || i == n-1 {
			commit(t, s, ss)
		}
	}
}

// TestListWhereHidden: a where on an x-hidden field needs hidden = true, or
// list would tell which records hold a value it hides.
func TestListWhereHidden(t *testing.T) {
	s := openSet(t, Options{Collections: []CollectionSpec{{Path: "/users", Schema: mustSchema(t, usersSchema)}}})
	ss := s.Session()
	for i, pin := range []string{"1111", "2222"} {
		if _, err := ss.Create("/users", Record{"id": fmt.Sprint("u", i), "name": "n", "password": plain, "pin": pin}); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, s, ss)
	o := ListOptions{Where: map[string]any{"pin": "2222"}}
	if _, err := s.Session().List("/users", o); !errors.Is(err, ErrInvalidQuery) || !strings.Contains(err.Error(), "where pin: the field is hidden") {
		t.Errorf("List(where pin)=%v, want ErrInvalidQuery naming pin", err)
	}
	o.Hidden = true
	got, err := s.Session().List("/users", o)
	if err != nil || !slices.Equal(ids(got), []string{"u1"}) || got[0]["pin"] != "2222" {
		t.Errorf("List(where pin, hidden)=%v, %v, want u1 with its pin", got, err)
	}
}
