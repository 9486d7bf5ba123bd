package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	bolt "go.etcd.io/bbolt"
)

// serveCmd is the hidden first argument that makes the harness binary run
// one of the reference servers, so that they are separate processes
// measured exactly like `minimi serve`.
const serveCmd = "_serve"

// referenceMain runs `bench _serve chi <addr>` or `bench _serve bolt <addr> <file>`.
func referenceMain(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch {
	case len(args) == 2 && args[0] == "chi":
		return serveHTTP(ctx, args[1], chiHandler(0))
	case len(args) == 3 && args[0] == "chi":
		work, err := time.ParseDuration(args[2])
		if err != nil {
			return fmt.Errorf("usage: %s chi <addr> [work]: %w", serveCmd, err)
		}
		return serveHTTP(ctx, args[1], chiHandler(work))
	case len(args) == 3 && args[0] == "bolt":
		db, err := bolt.Open(args[2], 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			return err
		}
		defer db.Close()
		h, err := boltHandler(db)
		if err != nil {
			return err
		}
		return serveHTTP(ctx, args[1], h)
	}
	return fmt.Errorf("usage: %s chi <addr> [work] | %s bolt <addr> <file>", serveCmd, serveCmd)
}

// chiHandler is subject (a): a plain chi handler writing the same JSON as
// the three-phase MiniMi endpoint. With work > 0 it is the control (w): the
// handler first spends work of CPU in a busy loop.
func chiHandler(work time.Duration) http.Handler {
	r := chi.NewRouter()
	r.Get("/bench", func(w http.ResponseWriter, _ *http.Request) {
		for start := time.Now(); time.Since(start) < work; {
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "n": 2})
	})
	r.Get("/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	return r
}

var notesBucket = []byte("notes")

// boltHandler is subject (e): POST /notes stores the JSON body as a record
// in one bbolt Update per request, with bbolt's default fsync on commit.
func boltHandler(db *bolt.DB) (http.Handler, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(notesBucket)
		return err
	})
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	r.Post("/notes", func(w http.ResponseWriter, r *http.Request) {
		rec, err := createNote(db, r.Body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, rec)
	})
	r.Get("/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	return r, nil
}

// createNote decodes a JSON object, gives it an id and stores it.
func createNote(db *bolt.DB, body io.Reader) (map[string]any, error) {
	var rec map[string]any
	if err := json.NewDecoder(io.LimitReader(body, 1<<20)).Decode(&rec); err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, errors.New("body is not a JSON object")
	}
	err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(notesBucket)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		id := fmt.Sprintf("%016x", seq)
		rec["id"] = id
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), v)
	})
	return rec, err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// serveHTTP serves h on addr until ctx ends, then shuts down.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
