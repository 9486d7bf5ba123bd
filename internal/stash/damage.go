package stash

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrDamaged is a bbolt file shorter than its own last commit says it is
// (cut short by a failed copy, a full disk or a bad restore), which bbolt
// itself would read past the end of, or a file with a page that is not what
// it should be (overwritten inside, at its full size), which bbolt panics on
// when a read reaches it.
var ErrDamaged = errors.New("store file is damaged")

// bbolt's meta page: a 16-byte page header, then magic, version, page size,
// flags (4 bytes each), the root bucket (16), the freelist's page, the
// page count, the txid and a checksum of what precedes it (8 each).
const (
	boltMagic      = 0xED0CDAED
	boltPageHeader = 16
	boltMetaSize   = 64
)

// boltMeta is what checkBoltFile reads of one meta page.
type boltMeta struct {
	pageSize uint32
	pages    uint64 // the high-water mark: pages the file holds
	txid     uint64
}

// readBoltMeta reads the meta page at off; ok is false when it is not one
// (a wrong magic or checksum).
func readBoltMeta(f *os.File, off int64) (m boltMeta, ok bool) {
	buf := make([]byte, boltPageHeader+boltMetaSize)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return m, false
	}
	meta := buf[boltPageHeader:]
	le := binary.NativeEndian
	if le.Uint32(meta[0:]) != boltMagic {
		return m, false
	}
	h := fnv.New64a()
	_, _ = h.Write(meta[:56])
	if h.Sum64() != le.Uint64(meta[56:]) {
		return m, false
	}
	return boltMeta{pageSize: le.Uint32(meta[8:]), pages: le.Uint64(meta[40:]), txid: le.Uint64(meta[48:])}, true
}

// checkBoltFile reports ErrDamaged for a bbolt file at path that is shorter
// than the pages its newest valid meta page counts. A file that does not
// exist yet, or whose meta pages are both invalid (which bbolt reports
// itself), passes.
func checkBoltFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	m0, ok0 := readBoltMeta(f, 0)
	second := int64(os.Getpagesize())
	if ok0 {
		second = int64(m0.pageSize)
	}
	m1, ok1 := readBoltMeta(f, second)
	m := m0
	switch {
	case !ok0 && !ok1:
		return nil
	case !ok0 || ok1 && m1.txid > m0.txid:
		m = m1
	}
	if need := m.pages * uint64(m.pageSize); uint64(fi.Size()) < need {
		return fmt.Errorf("%w: it is %d bytes, and its last commit needs %d", ErrDamaged, fi.Size(), need)
	}
	return nil
}

// OpenLogReadOnly opens the default store's file in dataDir read-only, for
// reading the event log it holds without writing a byte (minimi events
// works on a backup, or a read-only mount). A process that holds the file
// for writing is ErrInUse after timeout.
func OpenLogReadOnly(dataDir string, timeout time.Duration) (*bbolt.DB, error) {
	return openBolt(filepath.Join(dataDir, DefaultFile), true, &bbolt.Options{ReadOnly: true, Timeout: timeout})
}

// openBolt opens the bbolt file at path with o, after checkBoltFile; isLog
// says it is the default store, which holds the event log, for the remedy a
// damaged file's error gives. A lock held past o.Timeout is ErrInUse; a file
// whose meta pages are both invalid, or whose freelist page is damaged, is
// ErrDamaged. Every error names path once.
func openBolt(path string, isLog bool, o *bbolt.Options) (*bbolt.DB, error) {
	if err := checkBoltFile(path); err != nil {
		return nil, fmt.Errorf("open %s: %w; %s", path, err, damageFix(isLog))
	}
	// NoStatistics: bbolt counts every transaction under one mutex, which
	// readers on several cores then contend for; nothing reads the counts.
	o.NoStatistics = true
	var db *bbolt.DB
	// bbolt reads the freelist page as it opens, and panics on a damaged
	// one; then it leaves the file open and locked until the process ends.
	err := guardFile(path, isLog, func() (err error) {
		db, err = bbolt.Open(path, 0o600, o)
		return err
	})
	switch {
	case errors.Is(err, ErrDamaged):
		return nil, err
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w (waited %v for its lock)", path, ErrInUse, o.Timeout)
	case errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum):
		return nil, fmt.Errorf("open %s: %w: %w; %s", path, ErrDamaged, err, damageFix(isLog))
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == path {
			err = pe.Err // named once, below
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// damageFix says what to do about a damaged store file; isLog says it is the
// default store's, which holds the event log.
func damageFix(isLog bool) string {
	if isLog {
		return "it holds the event log: restore it from a backup (docs/operations.md)"
	}
	return "stop the service, then run minimi replay or remove the file: MiniMi builds it again from the event log in minimi.db"
}

// A page damaged inside the file is found only when a read reaches it: bbolt
// panics on a page whose header is not the page it looked for, or on
// offsets inside a page that make no sense, and a read through an offset
// that points outside the mapped file faults. The calls that read or write
// a bbolt file recover both (recoverDamage, guardFile), so that a damaged
// page fails the call with an error naming the file instead of ending the
// process.

// recoverDamage is deferred by the calls that read or write the bbolt file
// at path (isLog: the default store's), as
//
//	defer recoverDamage(&err, path, isLog, debug.SetPanicOnFault(true))
//
// It turns a panic that bbolt raised on a damaged page of the file into an
// error wrapping ErrDamaged that names it; other panics go on. Faults panic
// while the call runs (runtime/debug.SetPanicOnFault, meant for mapped
// files), instead of ending the process; fault is the setting to restore.
func recoverDamage(errp *error, path string, isLog, fault bool) {
	debug.SetPanicOnFault(fault)
	if r := recover(); r != nil {
		*errp = damaged(r, path, isLog)
	}
}

// guardFile runs fn, which reads or writes the bbolt file at path (isLog:
// the default store's), under recoverDamage.
func guardFile(path string, isLog bool, fn func() error) (err error) {
	defer recoverDamage(&err, path, isLog, debug.SetPanicOnFault(true))
	return fn()
}

// guard runs fn, which reads or writes st's bbolt file, under recoverDamage.
func (st *store) guard(fn func() error) error { return guardFile(st.path, st.name == "", fn) }

// GuardLog runs fn, which reads or writes the event log in the default
// store's bbolt file at path directly, and turns a panic that bbolt raises
// on a damaged page of that file into an error wrapping ErrDamaged that names
// it; other panics go on.
func GuardLog(path string, fn func() error) error { return guardFile(path, true, fn) }

// damaged returns the error for r, the value of a panic raised by bbolt on a
// damaged page of the file at path. It panics again with r when bbolt did
// not raise it: a bug is not damage.
func damaged(r any, path string, isLog bool) error {
	if !raisedByBolt(r) {
		panic(r)
	}
	what := fmt.Sprint(r)
	if f, ok := r.(interface{ Addr() uintptr }); ok {
		what = fmt.Sprintf("a read of it faulted at address %#x", f.Addr())
	}
	return fmt.Errorf("read %s: %w: %s; %s", path, ErrDamaged, what, damageFix(isLog))
}

// raisedByBolt reports whether the panic being recovered, of value r, was a
// fault reading memory at an address other than nil (which panics only
// where the fault setting is on: reading a mapped file), or was raised in
// bbolt's code. It must be called by the deferred function that recovers,
// while the panicking frames are still on the stack.
func raisedByBolt(r any) bool {
	if _, ok := r.(interface{ Addr() uintptr }); ok {
		return true
	}
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	panicking := false // past runtime.gopanic: in the frames that panicked
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && strings.HasPrefix(f.Function, "runtime."):
			// The runtime's own steps to the panic: panicIndex, sigpanic.
		case panicking:
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt.") ||
				strings.HasPrefix(f.Function, "go.etcd.io/bbolt/")
		}
		if !more {
			return false
		}
	}
}
