package lua

const defaultArrayCap = 32
const defaultHashCap = 32

type lValueArraySorter struct {
	L      *LState
	Fn     *LFunction
	Values []LValue
	less   int     // comparisons so far
	tbl    *LTable // the table whose array part Values is, when there is one (see Less)
}

func (lv *lValueArraySorter) Len() int {
	return len(lv.Values)
}

func (lv *lValueArraySorter) Swap(i, j int) {
	lv.Values[i], lv.Values[j] = lv.Values[j], lv.Values[i]
}

// sortCheckEvery is how many comparisons a sort makes between looks at the
// state's context: a comparator that is a Go function, or none, runs no
// Lua instruction, so nothing else would stop a long sort.
const sortCheckEvery = 1024

func (lv *lValueArraySorter) Less(i, j int) bool {
	if lv.less++; lv.less%sortCheckEvery == 0 && lv.L.ctx != nil {
		select {
		case <-lv.L.ctx.Done():
			lv.L.RaiseError("%s", lv.L.ctx.Err().Error())
		default:
		}
	}
	if t := lv.tbl; t != nil && t.nilFrom < len(lv.Values) {
		// A comparator (or an __lt) that took #t lowered nilFrom past a
		// nil that the swaps since may have replaced: every element from
		// len(Values) on is still nil, as the sort moves none of them.
		t.nilFrom = len(lv.Values)
	}
	if lv.Fn != nil {
		lv.L.Push(lv.Fn)
		lv.L.Push(lv.Values[i])
		lv.L.Push(lv.Values[j])
		lv.L.Call(2, 1)
		return LVAsBool(lv.L.reg.Pop())
	}
	return lessThan(lv.L, lv.Values[i], lv.Values[j])
}

func newLTable(acap int, hcap int) *LTable {
	if acap < 0 {
		acap = 0
	}
	if hcap < 0 {
		hcap = 0
	}
	tb := &LTable{}
	tb.Metatable = LNil
	if acap != 0 {
		tb.array = make([]LValue, 0, acap)
	}
	if hcap > maxStrEntries {
		tb.strdict = make(map[string]LValue, hcap)
		tb.keyIndex() // a table of many keys keeps their order from the start, as upstream
	} else if hcap != 0 {
		tb.strs = make([]strEntry, 0, hcap)
	}
	return tb
}

// maxStrEntries is how many string keys a table keeps in strs, a slice
// searched in order, before it moves them to strdict, a map: most tables
// have a few string keys, and a slice is cheaper to make, fill and search
// than a map.
const maxStrEntries = 12

// strEntry is a string key of a table and its value. A cleared key keeps
// its entry with a nil value until the slice needs the room.
type strEntry struct {
	key   string
	value LValue
}

// strGet returns the value of string key key, LNil for none.
func (tb *LTable) strGet(key string) LValue {
	if tb.strdict != nil {
		if v, ok := tb.strdict[key]; ok {
			return v
		}
		return LNil
	}
	for i := range tb.strs {
		if tb.strs[i].key == key {
			return tb.strs[i].value
		}
	}
	return LNil
}

// strSet sets string key key to value, which is not LNil.
func (tb *LTable) strSet(key string, value LValue) {
	if tb.strdict != nil {
		tb.strdict[key] = value
		return
	}
	for i := range tb.strs {
		if tb.strs[i].key == key {
			tb.strs[i].value = value
			return
		}
	}
	if len(tb.strs) >= maxStrEntries {
		tb.strs = compactStrs(tb.strs)
	}
	if len(tb.strs) < maxStrEntries {
		if tb.strs == nil {
			tb.strs = make([]strEntry, 0, 4)
		}
		tb.strs = append(tb.strs, strEntry{key, value})
		return
	}
	tb.keyIndex() // from here on the order is kept as upstream keeps it: insertion order
	tb.strdict = make(map[string]LValue, 2*maxStrEntries)
	for _, e := range tb.strs {
		if e.value != LNil {
			tb.strdict[e.key] = e.value
		}
	}
	tb.strs = nil
	tb.strdict[key] = value
}

// strDel clears string key key.
func (tb *LTable) strDel(key string) {
	if tb.strdict != nil {
		delete(tb.strdict, key)
		return
	}
	for i := range tb.strs {
		if tb.strs[i].key == key {
			tb.strs[i].value = LNil
			return
		}
	}
}

// strLen is an upper bound of the number of string keys.
func (tb *LTable) strLen() int {
	if tb.strdict != nil {
		return len(tb.strdict)
	}
	return len(tb.strs)
}

// compactStrs drops the entries of cleared keys, in place.
func compactStrs(strs []strEntry) []strEntry {
	n := 0
	for _, e := range strs {
		if e.value != LNil {
			strs[n] = e
			n++
		}
	}
	clear(strs[n:])
	return strs[:n]
}

// Len returns length of this LTable without using __len: a border of the
// array part, a position n whose element is not nil (or 0) and the next one
// nil (or past the array part), as Lua 5.1's luaH_getn finds it. For an array
// part without holes, that is the position of its last non-nil element.
//
// The search starts at nilFrom, from which every element is nil. It passes
// up to lenScanMax nils below it one by one and, when it finds an element
// there, lowers nilFrom to it, so that emptying a table from its end with
// t[#t] = nil reads each element once, not every nil after it again. Past
// those, it bisects the rest, as Lua does, and leaves nilFrom as it was, so
// that the table, while no element is set, has the same length each time
// (lowered by the nils passed, the next bisection would look below a border
// this one found): an element set far past the last one and cleared again
// leaves a gap of nils that Len bisects instead of passing.
func (tb *LTable) Len() int {
	i := min(tb.nilFrom, len(tb.array))
	for stop := max(i-lenScanMax, 0); i > stop; i-- {
		if lenProbe != nil {
			lenProbe()
		}
		if tb.array[i-1] != LNil {
			tb.nilFrom = i
			return i
		}
	}
	if i == 0 {
		tb.nilFrom = 0
		return 0
	}
	// Position i+1 holds nil; lo is 0 or holds a value, hi holds nil.
	lo, hi := 0, i+1
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if lenProbe != nil {
			lenProbe()
		}
		if tb.array[m-1] == LNil {
			hi = m
		} else {
			lo = m
		}
	}
	return lo
}

// lenScanMax is how many nils below nilFrom Len passes one by one before it
// bisects.
const lenScanMax = 8

// lenProbe, nil but in tests, is called for each element that Len reads.
var lenProbe func()

// setArray sets the element index of the array part, keeping nilFrom.
func (tb *LTable) setArray(index int, value LValue) {
	tb.array[index] = value
	if index >= tb.nilFrom && value != LNil {
		tb.nilFrom = index + 1
	}
}

// appendArray appends value to the array part, keeping nilFrom.
func (tb *LTable) appendArray(value LValue) {
	tb.array = append(tb.array, value)
	if value != LNil {
		tb.nilFrom = len(tb.array)
	}
}

// Append appends a given LValue to this LTable.
func (tb *LTable) Append(value LValue) {
	if value == LNil {
		return
	}
	if tb.array == nil {
		tb.array = make([]LValue, 0, defaultArrayCap)
	}
	if len(tb.array) == 0 || tb.array[len(tb.array)-1] != LNil {
		if len(tb.dict) == 0 { // no integer keys in the hash part to take
			tb.appendArray(value)
			return
		}
		tb.takeH(len(tb.array) + 1)
		tb.appendArray(value)
		tb.absorb()
	} else {
		tb.setArray(tb.Len(), value) // the array part ends with a nil, so Len() is within it
	}
}

// Insert inserts a given LValue at position `i` in this table.
func (tb *LTable) Insert(i int, value LValue) {
	if tb.array == nil {
		tb.array = make([]LValue, 0, defaultArrayCap)
	}
	if i > len(tb.array) {
		tb.RawSetInt(i, value)
		return
	}
	if i <= 0 {
		tb.RawSet(LNumber(i), value)
		return
	}
	i -= 1
	tb.array = append(tb.array, LNil)
	copy(tb.array[i+1:], tb.array[i:])
	tb.array[i] = value
	tb.nilFrom = max(tb.nilFrom, i) + 1 // the elements from i on moved up one
	tb.absorb()
}

// MaxN returns a maximum number key that nil value does not exist before it.
func (tb *LTable) MaxN() int {
	n := 0
	for i := len(tb.array) - 1; i >= 0; i-- {
		if tb.array[i] != LNil {
			n = i + 1
			break
		}
	}
	for k, v := range tb.dict { // the keys that the array part would hold upstream
		if kn, ok := k.(LNumber); ok && isArrayKey(kn) && int(kn) > n && v != LNil {
			n = int(kn)
		}
	}
	return n
}

// Remove removes from this table the element at a given position.
func (tb *LTable) Remove(pos int) LValue {
	if tb.array == nil {
		return LNil
	}
	larray := len(tb.array)
	if larray == 0 {
		return LNil
	}
	i := pos - 1
	oldval := LNil
	switch {
	case i >= larray:
		// nothing to do
	case i == larray-1 || i < 0:
		oldval = tb.array[larray-1]
		tb.array = tb.array[:larray-1]
	default:
		oldval = tb.array[i]
		copy(tb.array[i:], tb.array[i+1:])
		tb.array[larray-1] = nil
		tb.array = tb.array[:larray-1]
	}
	return oldval
}

// removeAt removes element pos of 1..n, where n is #t (within the array
// part), and moves the elements pos+1..n down one, as Lua 5.1's
// table.remove does: the elements past n, after a hole, stay where they are.
func (tb *LTable) removeAt(pos, n int) LValue {
	old := tb.array[pos-1]
	copy(tb.array[pos-1:n-1], tb.array[pos:n])
	tb.array[n-1] = LNil
	if n == len(tb.array) {
		tb.array = tb.array[:n-1]
	}
	return old
}

// RawSet sets a given LValue to a given index without the __newindex metamethod.
// It is recommended to use `RawSetString` or `RawSetInt` for performance
// if you already know the given LValue is a string or number.
func (tb *LTable) RawSet(key LValue, value LValue) {
	switch v := key.(type) {
	case LNumber:
		if isArrayKey(v) {
			// The common cases inline, as upstream has them; the rest in RawSetInt.
			switch index := int(v) - 1; {
			case index < len(tb.array):
				tb.setArray(index, value)
			case index == len(tb.array) && tb.array != nil && len(tb.dict) == 0:
				tb.appendArray(value)
			default:
				tb.RawSetInt(int(v), value)
			}
			return
		}
	case LString:
		tb.RawSetString(string(v), value)
		return
	}

	tb.RawSetH(key, value)
}

// RawSetInt sets a given LValue at a position `key` without the __newindex metamethod.
func (tb *LTable) RawSetInt(key int, value LValue) {
	if key < 1 || key >= MaxArrayIndex {
		tb.RawSetH(LNumber(key), value)
		return
	}
	if tb.array == nil {
		tb.array = make([]LValue, 0, 32)
	}
	index := key - 1
	alen := len(tb.array)
	switch {
	case index < alen:
		tb.setArray(index, value)
	case index == alen && len(tb.dict) == 0: // the common append
		tb.appendArray(value)
	case index-alen > max(alen, maxArrayGap):
		tb.RawSetH(LNumber(key), value) // far past the array: in the hash part, as Lua keeps it
	case value == LNil && index > alen:
		tb.RawSetH(LNumber(key), value)
	default:
		for k := alen + 1; k <= index; k++ {
			tb.appendArray(tb.takeH(k))
		}
		tb.takeH(key)
		tb.appendArray(value)
		tb.absorb()
	}
}

// maxArrayGap is how far past its end a key may extend the array part of a
// table that has fewer elements than that; a key further away goes to the
// hash part. Upstream filled any gap up to MaxArrayIndex with nils, so
// t[67108863] = true on an empty table allocated a gigabyte in one
// assignment. Here an assignment at most doubles the array part (plus
// maxArrayGap slots), as Lua's rule that the array part be at least half
// full bounds it.
const maxArrayGap = 64

// takeH removes the integer key k from the hash part and returns its value,
// LNil when it has none.
func (tb *LTable) takeH(k int) LValue {
	if len(tb.dict) == 0 {
		return LNil
	}
	v, ok := tb.dict[LNumber(k)]
	if !ok {
		return LNil
	}
	delete(tb.dict, LNumber(k))
	return v
}

// absorb moves the keys that follow the array part from the hash part to
// it, so that no key is in both and the array part stays a sequence's
// home.
func (tb *LTable) absorb() {
	for len(tb.dict) > 0 && len(tb.array) < MaxArrayIndex-1 {
		v := tb.takeH(len(tb.array) + 1)
		if v == LNil {
			return
		}
		tb.appendArray(v)
	}
}

// RawSetString sets a given LValue to a given string index without the __newindex metamethod.
func (tb *LTable) RawSetString(key string, value LValue) {
	if value == LNil {
		tb.strDel(key)
		return
	}
	tb.strSet(key, value)
	if tb.keys != nil {
		tb.indexKey(LString(key))
	}
}

// RawSetH sets a given LValue to a given index without the __newindex metamethod.
func (tb *LTable) RawSetH(key LValue, value LValue) {
	if s, ok := key.(LString); ok {
		tb.RawSetString(string(s), value)
		return
	}
	if value == LNil {
		if tb.dict != nil {
			delete(tb.dict, key)
		}
		return
	}
	if tb.dict == nil {
		tb.keyIndex() // a table with keys of other types keeps their order, as upstream
		tb.dict = make(map[LValue]LValue, tb.strLen())
	}
	tb.dict[key] = value
	tb.indexKey(key)
}

// indexKey appends key to the order in which Next visits the hash part,
// unless it is there. The order is built by the first traversal (keyIndex)
// and kept from then on, as upstream keeps it from the first write: tables
// that are never traversed cost one map assignment per write.
//
// The order drops the cleared keys when a new key finds in it at least
// minKeysToCompact more cleared keys than live ones, as Lua rehashes a table only when a new key finds no room, and
// a traversal may not add keys. Upstream kept every key the table ever
// had, so a table whose keys come and go grew without bound, and each
// traversal passed all its cleared keys.
func (tb *LTable) indexKey(key LValue) {
	if i, ok := tb.k2i[key]; ok && i >= 0 && tb.keys[i] == key {
		return
	}
	if len(tb.keys) >= 2*(tb.strLen()+len(tb.dict))+minKeysToCompact {
		tb.compactKeys()
	}
	tb.k2i[key] = len(tb.keys)
	tb.keys = append(tb.keys, key)
}

// minKeysToCompact is the number of cleared keys below which the order of
// a table's keys keeps them.
const minKeysToCompact = 16

// compactKeys drops the cleared keys from the order, which keeps the order
// of the others. A cleared key stays in k2i, at the position of the key
// before it, so that a traversal that cleared its current key goes on
// from there; the next compaction forgets it.
func (tb *LTable) compactKeys() {
	keys := make([]LValue, 0, tb.strLen()+len(tb.dict))
	k2i := make(map[LValue]int, len(tb.keys))
	for _, k := range tb.keys {
		if tb.RawGetH(k) != LNil {
			k2i[k] = len(keys)
			keys = append(keys, k)
		} else {
			k2i[k] = len(keys) - 1
		}
	}
	tb.keys, tb.k2i = keys, k2i
}

// keyIndex builds the order in which Next visits the hash part: the first
// time a traversal needs it while the table has only a few string keys (in
// strs, whose order is insertion order), or when the table outgrows strs or
// gets a key of another type. From then on it is kept as upstream keeps it.
// Cleared keys stay in it (Next skips them), so that clearing fields during
// a traversal is allowed, as in Lua; cleared entries still in strs are
// included for the same reason.
func (tb *LTable) keyIndex() {
	if tb.keys != nil {
		return
	}
	n := len(tb.strs) + len(tb.strdict) + len(tb.dict)
	tb.keys = make([]LValue, 0, n)
	tb.k2i = make(map[LValue]int, n)
	for _, e := range tb.strs {
		tb.indexKey(LString(e.key))
	}
	// Tables with keys in strdict or dict have had an index since they had
	// them; these loops only matter to a table built some other way.
	for k := range tb.strdict {
		tb.indexKey(LString(k))
	}
	for k := range tb.dict {
		tb.indexKey(k)
	}
}

// RawGet returns an LValue associated with a given key without __index metamethod.
func (tb *LTable) RawGet(key LValue) LValue {
	switch v := key.(type) {
	case LNumber:
		if isArrayKey(v) {
			return tb.RawGetInt(int(v))
		}
	case LString:
		return tb.strGet(string(v))
	}
	if tb.dict == nil {
		return LNil
	}
	if v, ok := tb.dict[key]; ok {
		return v
	}
	return LNil
}

// RawGetInt returns an LValue at position `key` without __index metamethod.
func (tb *LTable) RawGetInt(key int) LValue {
	index := key - 1
	if index >= 0 && index < len(tb.array) {
		return tb.array[index]
	}
	if v, ok := tb.dict[LNumber(key)]; ok {
		return v
	}
	return LNil
}

// RawGet returns an LValue associated with a given key without __index metamethod.
func (tb *LTable) RawGetH(key LValue) LValue {
	if s, sok := key.(LString); sok {
		return tb.strGet(string(s))
	}
	if tb.dict == nil {
		return LNil
	}
	if v, ok := tb.dict[key]; ok {
		return v
	}
	return LNil
}

// RawGetString returns an LValue associated with a given key without __index metamethod.
func (tb *LTable) RawGetString(key string) LValue {
	return tb.strGet(key)
}

// ForEach iterates over this table of elements, yielding each in turn to a given function.
// cb may assign or clear existing keys of the table but must not add keys:
// adding one can move the string keys from strs to strdict mid-walk.
func (tb *LTable) ForEach(cb func(LValue, LValue)) {
	if tb.array != nil {
		for i, v := range tb.array {
			if v != LNil {
				cb(LNumber(i+1), v)
			}
		}
	}
	for _, e := range tb.strs {
		if e.value != LNil {
			cb(LString(e.key), e.value)
		}
	}
	if tb.strdict != nil {
		for k, v := range tb.strdict {
			if v != LNil {
				cb(LString(k), v)
			}
		}
	}
	if tb.dict != nil {
		for k, v := range tb.dict {
			if v != LNil {
				cb(k, v)
			}
		}
	}
}

// ForEachKind is ForEach with string keys apart: str gets each string key
// as a Go string, other every other key, so that a walk over a record-like
// table does not box its keys. Either may be nil to skip those keys. The
// order and the rules for the callbacks are ForEach's.
func (tb *LTable) ForEachKind(str func(string, LValue), other func(LValue, LValue)) {
	if other != nil && tb.array != nil {
		for i, v := range tb.array {
			if v != LNil {
				other(LNumber(i+1), v)
			}
		}
	}
	if str != nil {
		for _, e := range tb.strs {
			if e.value != LNil {
				str(e.key, e.value)
			}
		}
		for k, v := range tb.strdict {
			if v != LNil {
				str(k, v)
			}
		}
	}
	if other != nil {
		for k, v := range tb.dict {
			if v != LNil {
				other(k, v)
			}
		}
	}
}

// This function is equivalent to lua_next ( http://www.lua.org/manual/5.1/manual.html#lua_next ).
func (tb *LTable) Next(key LValue) (LValue, LValue) {
	init := false
	if key == LNil {
		key = LNumber(0)
		init = true
	}

	if init || key != LNumber(0) {
		if kv, ok := key.(LNumber); ok && isInteger(kv) && int(kv) >= 0 && int(kv) <= len(tb.array) {
			index := int(kv)
			if tb.array != nil {
				for ; index < len(tb.array); index++ {
					if v := tb.array[index]; v != LNil {
						return LNumber(index + 1), v
					}
				}
			}
			if tb.array == nil || index == len(tb.array) {
				if len(tb.dict) == 0 && tb.strLen() == 0 {
					return LNil, LNil
				}
				tb.keyIndex()
				if len(tb.keys) == 0 {
					return LNil, LNil
				}
				key = tb.keys[0]
				if v := tb.RawGetH(key); v != LNil {
					return key, v
				}
			}
		}
	}

	tb.keyIndex()
	for i := tb.k2i[key] + 1; i < len(tb.keys); i++ {
		key := tb.keys[i]
		if v := tb.RawGetH(key); v != LNil {
			return key, v
		}
	}
	return LNil, LNil
}
