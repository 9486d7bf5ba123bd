package service

import (
	"bytes"
	"net/http"
)

// recorder is the ResponseWriter a request from the bus is served into.
// It keeps the reply in memory until the handler returns.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

var _ http.ResponseWriter = (*recorder)(nil)

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// reply is the recorded reply as an envelope.
func (w *recorder) reply() *reply {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	delete(w.header, "Content-Length") // the envelope carries the body whole
	rep := &reply{Status: status, Headers: header(w.header)}
	rep.setBody(w.header.Get("Content-Type"), w.body.Bytes())
	return rep
}
