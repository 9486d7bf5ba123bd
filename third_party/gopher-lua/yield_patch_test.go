package lua

import "testing"

// TestYieldAcrossAGoCall: a coroutine that yields under a call from Go
// (pcall, a metamethod, a for iterator, a sort's comparator) gets Lua 5.1's
// error, which pcall catches, and the coroutine and the state go on. The
// yield returned into the Go function as if it had returned, so
// pcall(coroutine.yield) gave true, and resuming the coroutine again raised
// a Go nil-pointer error.
func TestYieldAcrossAGoCall(t *testing.T) {
	const msg = `"attempt to yield across metamethod/C-call boundary"`
	tests := []struct{ name, script string }{
		{"pcall of yield", `local co = coroutine.create(function(a)
				local ok, err = pcall(coroutine.yield, a)
				local b = coroutine.yield(ok, err)
				return b + 1
			end)
			local ok, yok, err = coroutine.resume(co, 1)
			assert(ok and yok == false and err == ` + msg + `, tostring(err))
			assert(coroutine.status(co) == "suspended")
			local ok, v = coroutine.resume(co, 41)
			assert(ok and v == 42 and coroutine.status(co) == "dead", tostring(v))`},
		{"pcall of yield, returned", `local co = coroutine.create(function() return pcall(coroutine.yield, 1) end)
			local ok, pok, err = coroutine.resume(co)
			assert(ok and pok == false and err == ` + msg + ` and coroutine.status(co) == "dead", tostring(err))
			local ok, err = coroutine.resume(co, "v")
			assert(ok == false and err == "cannot resume dead coroutine", tostring(err))`},
		{"pcall of yield in coroutine.wrap", `local ok, err = coroutine.wrap(function() return pcall(coroutine.yield) end)()
			assert(ok == false and err == ` + msg + `, tostring(err))`},
		{"a Lua function under pcall", `local co = coroutine.create(function()
				return pcall(function() coroutine.yield(1) end)
			end)
			local ok, pok, err = coroutine.resume(co)
			assert(ok and pok == false and err == ` + msg + ` and coroutine.status(co) == "dead", tostring(err))`},
		{"a metamethod", `local co = coroutine.create(function()
				local t = setmetatable({}, {__index = function() coroutine.yield(1) end})
				return t.x
			end)
			local ok, err = coroutine.resume(co)
			assert(ok == false and err == ` + msg + ` and coroutine.status(co) == "dead", tostring(err))`},
		{"a for iterator", `local co = coroutine.create(function()
				for x in function() coroutine.yield(1) end do end
			end)
			local ok, err = coroutine.resume(co)
			assert(ok == false and err == ` + msg + `, tostring(err))`},
		{"a comparator", `local ok, err = pcall(coroutine.wrap(function()
				table.sort({3, 2, 1}, function(a, b) coroutine.yield() return a < b end)
			end))
			assert(ok == false and err == ` + msg + `, tostring(err))`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			L := NewState()
			defer L.Close()
			if err := L.DoString(tc.script); err != nil {
				t.Fatalf("DoString()=%v, want nil", err)
			}
			// The state goes on: a coroutine yields and is resumed.
			err := L.DoString(`local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
				assert(co(1) == 2 and co(5) == 10)`)
			if err != nil {
				t.Fatalf("DoString() after it=%v, want nil", err)
			}
			if top := L.GetTop(); top != 0 {
				t.Errorf("GetTop()=%d after the scripts, want 0", top)
			}
		})
	}
}
