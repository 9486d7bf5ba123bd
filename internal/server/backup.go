package server

import (
	"io"
	"net/http"
	"time"

	"github.com/minimi-go/minimi/internal/phases"
	"github.com/minimi-go/minimi/internal/stash"
)

// backupStall bounds how long one write of a backup may wait for the
// client: the copy holds a read transaction of each store, which keeps
// bbolt from reusing the pages freed meanwhile.
const backupStall = 30 * time.Second

// backup serves GET /_minimi/backup: the store files as one tar archive
// (stash.Set.Backup), copied while the service goes on. Only a loopback
// peer gets it, whatever the client keys and events.public say: the archive
// holds every record, x-hidden fields and password hashes included.
func (s *Server) backup(set *stash.Set) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !loopbackPeer(r) {
			s.writeError(w, r, &phases.Error{Status: http.StatusForbidden, Title: http.StatusText(http.StatusForbidden),
				Detail: "a backup holds every record, so it is served to this machine only: run curl on it"})
			return
		}
		now := time.Now().UTC()
		h := w.Header()
		h.Set("Content-Type", "application/x-tar")
		h.Set("Content-Disposition", `attachment; filename="minimi-backup-`+now.Format("20060102-150405")+`.tar"`)
		h.Set("Cache-Control", "no-store")
		sw := &stallWriter{w: w, rc: http.NewResponseController(w)}
		err := set.Backup(sw, now)
		if err == nil {
			return
		}
		s.log.Error("backup failed", keyRequestID, requestIDOf(r), keyError, err.Error())
		if sw.n == 0 {
			h.Del("Content-Disposition")
			s.writeError(w, r, &phases.Error{Status: http.StatusInternalServerError, Title: http.StatusText(500),
				Internal: true, Err: err})
			return
		}
		// Part of the archive is sent: break the connection, so that the
		// client sees a transfer cut short, not a shorter archive.
		panic(http.ErrAbortHandler)
	}
}

// stallWriter writes to an HTTP reply, giving each write backupStall to
// finish, and counts the bytes written.
type stallWriter struct {
	w  io.Writer
	rc *http.ResponseController
	n  int64
}

func (sw *stallWriter) Write(p []byte) (int, error) {
	_ = sw.rc.SetWriteDeadline(time.Now().Add(backupStall))
	n, err := sw.w.Write(p)
	sw.n += int64(n)
	return n, err
}
