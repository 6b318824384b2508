package redisstore

import (
	"bytes"
	"encoding/json"
	"testing"
)

func compact(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b
	}
	return out.Bytes()
}

// FuzzDecode feeds stored entries to the decoder: whoever can write to
// Redis is trusted, but a corrupt entry must be an error, not a panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"v":1,"a":true,"c":{"active":true},"j":"a.b.c","e":1700000000000}`))
	f.Add([]byte(`{"v":1,"a":false,"r":"wrong_audience","e":1}`))
	f.Add([]byte(`{"v":1,"a":true,"e":1,"A":false}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := decode(v)
		if err != nil {
			if e != nil {
				t.Fatalf("entry beside an error")
			}
			return
		}
		// What decodes survives a write and a read unchanged.
		again, err := json.Marshal(wireEntry{Version: 1, Active: e.Active, Refusal: string(e.Refusal), Claims: e.Claims, JWT: e.JWT, Expires: e.Expires.UnixMilli()})
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		e2, err := decode(again)
		if err != nil || e2.Active != e.Active || e2.Refusal != e.Refusal || e2.JWT != e.JWT ||
			!e2.Expires.Equal(e.Expires) || !bytes.Equal(compact(e2.Claims), compact(e.Claims)) {
			t.Fatalf("round trip changed the entry: %v", err)
		}
	})
}
