package lua

import (
	"math"
	"sort"
)

func OpenTable(L *LState) int {
	tabmod := L.RegisterModule(TabLibName, tableFuncs)
	L.Push(tabmod)
	return 1
}

var tableFuncs = map[string]LGFunction{
	"getn":   tableGetN,
	"concat": tableConcat,
	"insert": tableInsert,
	"maxn":   tableMaxN,
	"remove": tableRemove,
	"sort":   tableSort,
}

func tableSort(L *LState) int {
	tbl := L.CheckTable(1)
	// As Lua 5.1's sort, the elements 1 to #t (luaL_getn), which are in the
	// array part: not the nils after them.
	n := tbl.Len()
	sorter := &lValueArraySorter{L: L, Values: tbl.array[:n], tbl: tbl}
	if L.Get(2) != LNil {
		sorter.Fn = L.CheckFunction(2)
	}
	// A comparator that takes nil may move a nil below #t up to it, and
	// then take #t (lowering nilFrom) before the swaps move a value past
	// nilFrom, or raise midway: once the sort ends, either way, nilFrom is
	// at least n again.
	defer func() { tbl.nilFrom = max(tbl.nilFrom, n) }()
	sort.Sort(sorter)
	return 0
}

func tableGetN(L *LState) int {
	L.Push(LNumber(L.CheckTable(1).Len()))
	return 1
}

func tableMaxN(L *LState) int {
	L.Push(LNumber(L.CheckTable(1).MaxN()))
	return 1
}

func tableRemove(L *LState) int {
	tbl := L.CheckTable(1)
	n := tbl.Len()
	pos := L.OptInt(2, n)
	if pos < 1 || pos > n {
		return 0 // as Lua 5.1's tremove: nothing to remove
	}
	L.Push(tbl.removeAt(pos, n))
	return 1
}

func tableConcat(L *LState) int {
	tbl := L.CheckTable(1)
	sep := LString(L.OptString(2, ""))
	i := L.OptInt(3, 1)
	j := L.OptInt(4, tbl.Len())
	if L.GetTop() == 3 {
		if i > tbl.Len() || i < 1 {
			L.Push(emptyLString)
			return 1
		}
	}
	i = intMax(intMin(i, tbl.Len()), 1)
	j = intMin(intMin(j, tbl.Len()), tbl.Len())
	if i > j {
		L.Push(emptyLString)
		return 1
	}
	//TODO should flushing?
	retbottom := L.GetTop()
	for ; i <= j; i++ {
		v := tbl.RawGetInt(i)
		if !LVCanConvToString(v) {
			L.RaiseError("invalid value (%s) at index %d in table for 'concat'", v.Type().String(), i)
		}
		L.Push(v)
		if i != j {
			L.Push(sep)
		}
	}
	L.Push(stringConcat(L, L.GetTop()-retbottom, L.reg.Top()-1))
	return 1
}

func tableInsert(L *LState) int {
	tbl := L.CheckTable(1)
	switch L.GetTop() {
	case 2:
		tbl.Append(L.Get(2))
	case 3:
		tableInsertAt(tbl, cInt(L.CheckNumber(2)), L.Get(3))
	default:
		L.RaiseError("wrong number of arguments to 'insert'")
	}
	return 0
}

// cInt is n as Lua 5.1's luaL_checkint gives it on a 64-bit machine: cut
// to a 64-bit integer, as x86-64's conversion does (a value out of range and
// NaN give math.MinInt64), and then to C's 32-bit int, which keeps the low
// 32 bits. So -2^40 is 0 and 2^32 + 2 is 2.
func cInt(n LNumber) int {
	f := float64(n)
	i := int64(math.MinInt64)
	if f >= -(1<<63) && f < 1<<63 {
		i = int64(f)
	}
	return int(int32(i))
}

// tableInsertAt is Lua 5.1's tinsert with a position: with e = #t + 1, or
// pos when that is larger, it sets t[i] = t[i-1] for i from e down to
// pos + 1, then t[pos] = v. A position below 1 moves the keys from pos to 0
// up too; only those the hash part holds are visited, so the time does not
// grow with how far below 1 the position is.
func tableInsertAt(tb *LTable, pos int, v LValue) {
	e := tb.Len() + 1
	switch {
	case pos >= e:
		tb.RawSetInt(pos, v)
		return
	case pos >= 1 && e-1 == len(tb.array) && len(tb.dict) == 0:
		tb.Insert(pos, v) // the array part is the sequence: one copy moves it
		return
	}
	for i := e; i > max(pos, 1); i-- {
		tb.RawSetInt(i, tb.RawGetInt(i-1))
	}
	if pos < 1 {
		tableShiftNonPositive(tb, pos)
	}
	tb.RawSetInt(pos, v)
}

// tableShiftNonPositive sets t[i] = t[i-1] for i from 1 down to pos + 1,
// where pos < 1, reading only the integer keys from pos to 0 that the hash
// part holds.
func tableShiftNonPositive(tb *LTable, pos int) {
	var keys []int
	for k, v := range tb.dict {
		if n, ok := k.(LNumber); ok && v != LNil && n >= LNumber(pos) && n <= 0 && n == LNumber(int(n)) {
			keys = append(keys, int(n))
		}
	}
	vals := make([]LValue, len(keys))
	for i, k := range keys {
		vals[i] = tb.RawGetInt(k)
		tb.RawSetInt(k, LNil)
	}
	tb.RawSetInt(1, LNil)
	for i, k := range keys {
		tb.RawSetInt(k+1, vals[i])
	}
}

//
