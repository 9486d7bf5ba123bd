package stash

import (
	"fmt"
	"iter"
	"sort"
	"strings"
)

// List returns records of coll in id order: after o.After (exclusive), with
// ids starting with o.Prefix, whose fields equal o.Where, at most o.Limit.
// A Where on an indexed or unique field reads only that index's entries;
// other fields are filtered while scanning. A Where on an x-hash field, or
// on an x-hidden one without o.Hidden, is ErrInvalidQuery.
func (ss *Session) List(coll string, o ListOptions) ([]Record, error) {
	c, err := ss.s.collection(coll)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", coll, err)
	}
	q, err := newQuery(c, o)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", coll, err)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var stored []Record
	err = ss.s.read(c.store, func(tx kvTx) error {
		stored, err = q.run(tx, func(id string) bool { return ss.wrote(c.path, id) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", coll, err)
	}
	out := mergeByID(stored, q.pending(ss.pendingIn(c.path)), q.limit)
	for _, rec := range out { // what the caller sees of the store, not what the limit cut
		if id, _ := rec[FieldID].(string); !ss.wrote(c.path, id) {
			ver, _ := rec[FieldVersion].(int)
			ss.noteRead(c, id, seen{ver, true})
		}
	}
	if !o.Hidden {
		sc := c.Schema() // one schema for the whole list, also while a reload swaps it
		for i := range out {
			out[i] = stripHiddenOf(sc, out[i])
		}
	}
	return out, nil
}

// query is a prepared List.
type query struct {
	c        *Collection
	after    string
	prefix   string
	limit    int
	where    map[string]any // values normalized and transformed like stored ones
	index    string         // the indexed field used, or "" to scan the records
	indexEnc []byte
}

func newQuery(c *Collection, o ListOptions) (*query, error) {
	if o.Limit < 0 {
		return nil, fmt.Errorf("%w: limit %d is negative", ErrInvalidQuery, o.Limit)
	}
	q := &query{c: c, after: o.After, prefix: o.Prefix, limit: o.Limit, where: map[string]any{}}
	if q.limit == 0 {
		q.limit = DefaultLimit
	}
	for f, v := range o.Where {
		nv, err := normalize(v)
		if err != nil {
			return nil, fmt.Errorf("%w: where %s: %w", ErrInvalidQuery, f, err)
		}
		sc := c.Schema()
		if sc != nil && sc.hash[f] {
			return nil, fmt.Errorf("%w: where %s: the field is hashed (x-hash)", ErrInvalidQuery, f)
		}
		if sc != nil && sc.hidden[f] && !o.Hidden {
			// Filtering would tell which records hold a value the read hides.
			return nil, fmt.Errorf("%w: where %s: the field is hidden (x-hidden); filter on it with hidden = true", ErrInvalidQuery, f)
		}
		if s, ok := nv.(string); ok && sc != nil && sc.lower[f] {
			nv = strings.ToLower(s)
		}
		q.where[f] = nv
	}
	for _, f := range c.indexOrder {
		if v := q.where[f]; v != nil {
			q.index, q.indexEnc = f, encodeValue(v)
			break
		}
	}
	return q, nil
}

// start is the first id the query can return.
func (q *query) start() string { return max(q.after, q.prefix) }

// accept reports whether id is in the query's id range; stop is true once
// the range is over (ids only grow).
func (q *query) accept(id string) (ok, stop bool) {
	if q.after != "" && id <= q.after {
		return false, false
	}
	if !strings.HasPrefix(id, q.prefix) {
		return false, true
	}
	return true, false
}

// matches reports whether rec fits the Where; fromIndex says rec was found
// through the index, whose field then needs no check.
func (q *query) matches(rec map[string]any, fromIndex bool) bool {
	for f, v := range q.where {
		if (f != q.index || !fromIndex) && !sameValue(rec[f], v) {
			return false
		}
	}
	return true
}

// run reads the stored records of the query, leaving out ids for which
// skip returns true (the session's own writes).
func (q *query) run(tx kvTx, skip func(string) bool) ([]Record, error) {
	var out []Record
	var err error
	visit := func(id string, raw []byte) bool {
		ok, stop := q.accept(id)
		if stop {
			return false
		}
		if !ok || skip(id) || raw == nil {
			return true
		}
		q.c.visited.Add(1)
		var rec Record
		if rec, err = decodeStored(raw); err != nil {
			return false
		}
		if q.matches(rec, q.index != "") {
			out = append(out, rec)
		}
		return len(out) < q.limit
	}
	if q.index != "" {
		scanIndex(tx, q.c, q.index, q.indexEnc, q.start(), func(id string) bool {
			return visit(id, loadRaw(tx, q.c, id))
		})
	} else {
		tx.scan(q.c.records, []byte(q.start()), func(k, v []byte) bool { return visit(string(k), v) })
	}
	return out, err
}

// pending returns the session's records that the query matches, in id order.
func (q *query) pending(pend iter.Seq2[string, pending]) []Record {
	var out []Record
	for id, p := range pend {
		if p.rec == nil {
			continue
		}
		if ok, _ := q.accept(id); ok && q.matches(p.rec, false) {
			out = append(out, Record(cloneMap(p.rec)))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][FieldID].(string) < out[j][FieldID].(string) })
	return out
}

// mergeByID merges two id-ordered lists with no id in common, up to limit.
func mergeByID(a, b []Record, limit int) []Record {
	out := make([]Record, 0, min(len(a)+len(b), limit))
	for len(out) < limit && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || (len(a) > 0 && a[0][FieldID].(string) < b[0][FieldID].(string)) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}
