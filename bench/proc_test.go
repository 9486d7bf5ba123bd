package main

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestStatusBytes(t *testing.T) {
	status := "Name:\tminimi\nVmPeak:\t  800000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t7\n"
	tests := []struct {
		name, in, field string
		want            int64
		wantErr         error
	}{
		{"hwm", status, "VmHWM", 20 << 20, nil},
		{"rss", status, "VmRSS", 10 << 20, nil},
		{"missing", status, "VmSwap", 0, ErrNoField},
		{"prefix is not the field", "VmHWMx:\t1 kB\n", "VmHWM", 0, ErrNoField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := statusBytes(strings.NewReader(tc.in), tc.field)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("statusBytes(%s)=%d, %v, want %d, %v", tc.field, got, err, tc.want, tc.wantErr)
			}
		})
	}
	if _, err := statusBytes(strings.NewReader("VmHWM:\t12 pages\n"), "VmHWM"); err == nil {
		t.Errorf("statusBytes(12 pages)=nil error, want one")
	}
}

// TestOwnStatus reads this test process's own /proc status, where the
// harness reads a server's.
func TestOwnStatus(t *testing.T) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc on this system")
	}
	defer f.Close()
	if got, err := statusBytes(f, "VmHWM"); err != nil || got <= 0 {
		t.Errorf("statusBytes(/proc/self/status, VmHWM)=%d, %v, want > 0", got, err)
	}
}
