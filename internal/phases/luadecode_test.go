package phases

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestDecoderReleaseKeepsNoValues: a decoder goes back to the pool without
// the values of its decoding, whether it succeeded or failed halfway, so
// that no Lua value outlives its request in the pool.
func TestDecoderReleaseKeepsNoValues(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	for _, doc := range []string{
		`{"a":[1,2,{"b":"x"}],"c":"y","d":{"e":[true,null]}}`,
		`{"a":[1,2,{"b":"x"},`, // fails with values on the stacks
		`{"k":[1,2,3,`,         // fails before any container closed
		`[` + strings.Repeat(`"v",`, 100) + `"w"]`,
	} {
		d := &jsonDecoder{L: L, data: []byte(doc), arrayMT: L.GetField(L.Get(lua.RegistryIndex), arrayMeta)}
		_, err := d.value(0)
		if strings.HasSuffix(doc, ",") != (err != nil) {
			t.Fatalf("%s: err=%v", doc, err)
		}
		d.release()
		for i, k := range d.keys[:cap(d.keys)] {
			if k != "" {
				t.Errorf("%s: key %d %q kept", doc, i, k)
			}
		}
		for i, v := range d.vals[:cap(d.vals)] {
			if v != nil {
				t.Errorf("%s: value %d %v kept", doc, i, v)
			}
		}
		if d.L != nil || d.data != nil || d.i != 0 {
			t.Errorf("%s: the decoding's state kept", doc)
		}
	}
}
