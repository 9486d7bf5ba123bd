package server

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minimi-go/minimi/internal/jsontext"
)

// accessLog writes the request log: one JSON object per line per request,
// in the shape of log/slog's JSON handler, so that it reads like every other
// line of the server's log:
//
//	{"time":"…","level":"INFO","msg":"request","component":"http","request_id":"…","method":"GET",
//	 "path":"/notes","route":"/notes","status":200,"bytes":17,"duration_ms":0.24,"remote":"127.0.0.1:39822"}
//
// It appends the line by hand: through slog.Logger a line costs more than a
// whole trivial request (a stack capture and generic attribute encoding).
type accessLog struct {
	w     io.Writer // nil: no request log
	bufs  sync.Pool
	stamp atomic.Pointer[stamp] // the second of the last line
}

// stamp is the formatted time of one second, without its milliseconds:
// formatting a time costs more than the rest of a line.
type stamp struct {
	sec        int64
	head, zone []byte // 2006-01-02T15:04:05 and Z07:00
}

// line is what the request log says of one request.
type line struct {
	id, method, path, route, remote string
	status, bytes                   int
	d                               time.Duration
}

// timeLayout is slog's: RFC 3339 with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func (al *accessLog) write(now time.Time, l line) {
	if al.w == nil {
		return
	}
	bp, _ := al.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 512)
		bp = &b
	}
	b := append((*bp)[:0], `{"time":"`...)
	b = al.appendTime(b, now)
	b = append(b, `","level":"INFO","msg":"request","`+keyComponent+`":"http","`+keyRequestID+`":`...)
	b = jsontext.AppendString(b, l.id)
	b = append(b, `,"`+keyMethod+`":`...)
	b = jsontext.AppendString(b, l.method)
	b = append(b, `,"`+keyPath+`":`...)
	b = jsontext.AppendString(b, l.path)
	b = append(b, `,"`+keyRoute+`":`...)
	b = jsontext.AppendString(b, l.route)
	b = append(b, `,"`+keyStatus+`":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"`+keyBytes+`":`...)
	b = strconv.AppendInt(b, int64(l.bytes), 10)
	b = append(b, `,"`+keyDuration+`":`...)
	b = appendMillis(b, l.d.Microseconds())
	b = append(b, `,"`+keyRemote+`":`...)
	b = jsontext.AppendString(b, l.remote)
	b = append(b, "}\n"...)
	_, _ = al.w.Write(b)
	*bp = b
	al.bufs.Put(bp)
}

// appendTime appends now as timeLayout writes it.
func (al *accessLog) appendTime(b []byte, now time.Time) []byte {
	st := al.stamp.Load()
	if sec := now.Unix(); st == nil || st.sec != sec {
		st = &stamp{sec: sec, head: now.AppendFormat(nil, "2006-01-02T15:04:05"), zone: now.AppendFormat(nil, "Z07:00")}
		al.stamp.Store(st)
	}
	ms := now.Nanosecond() / 1e6
	b = append(b, st.head...)
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, st.zone...)
}

// appendMillis appends us microseconds as milliseconds, as
// strconv.AppendFloat(float64(us)/1000, 'f', -1) writes them: 0.24, 1, 12.5.
func appendMillis(b []byte, us int64) []byte {
	if us < 0 {
		b, us = append(b, '-'), -us
	}
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	if frac == 0 {
		return b
	}
	digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 3
	for digits[n-1] == '0' {
		n--
	}
	return append(append(b, '.'), digits[:n]...)
}

// statusOr is status, or 200 for a reply that wrote nothing at all (net/http
// sends 200 then).
func statusOr(status int) int {
	if status == 0 {
		return http.StatusOK
	}
	return status
}
