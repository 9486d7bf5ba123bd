package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

const (
	// treeFolders is the size of the generated tree: 10 top folders, 9
	// below each and 10 below each of those (10 + 90 + 900).
	treeFolders = 1000
	// deepURL is one of the deepest folders of the generated tree.
	deepURL = "/t9/m8/l9"
	// servedInterval is how often the start-up measurement polls.
	servedInterval = 2 * time.Millisecond
	// idleSettle is how long `minimi serve` sits idle before its RSS is read.
	idleSettle = 2 * time.Second
)

// writeTree writes a service of treeFolders folders under dir, each with a
// GET handler, and returns its directory.
func writeTree(dir string) (string, error) {
	svc := filepath.Join(dir, "service")
	var folders []string
	for t := range 10 {
		top := fmt.Sprintf("t%d", t)
		folders = append(folders, top)
		for m := range 9 {
			mid := fmt.Sprintf("%s/m%d", top, m)
			folders = append(folders, mid)
			for l := range 10 {
				folders = append(folders, fmt.Sprintf("%s/l%d", mid, l))
			}
		}
	}
	if len(folders) != treeFolders {
		return "", fmt.Errorf("generated %d folders, want %d", len(folders), treeFolders)
	}
	for _, f := range folders {
		if err := writeFolder(filepath.Join(svc, "endpoints", filepath.FromSlash(f))); err != nil {
			return "", err
		}
	}
	return svc, nil
}

// writeFolder makes a folder with a GET handler that echoes its path.
func writeFolder(path string) error {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	name := filepath.Base(path)
	src := "return { GET = function(req, res) res:json({ path = req.path }) end }\n"
	return os.WriteFile(filepath.Join(path, name+".execute.lua"), []byte(src), 0o644)
}

// foldersServed starts `minimi serve` on a fresh 1,000-folder tree and
// returns how long it took until both the health URL and a deep URL answer.
func (h *harness) foldersServed(ctx context.Context) (time.Duration, error) {
	dir, port, err := h.subjectDir("folders")
	if err != nil {
		return 0, err
	}
	svc, err := writeTree(dir)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	p, err := h.serveMiniMi(svc, port, dir)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	for _, path := range []string{healthPath, deepURL} {
		if err := p.waitReady(ctx, path, servedInterval, readyTimeout); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// idleRSS serves a copy of the example service in endpoints/, lets it
// settle and reads its resident set size.
func (h *harness) idleRSS(ctx context.Context) (int64, error) {
	dir, port, err := h.subjectDir("idle")
	if err != nil {
		return 0, err
	}
	svc := filepath.Join(dir, "service")
	if err := copyExample(h.root, svc); err != nil {
		return 0, err
	}
	p, err := h.serveMiniMi(svc, port, dir)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	if err := p.waitReady(ctx, healthPath, readyInterval, readyTimeout); err != nil {
		return 0, err
	}
	select {
	case <-time.After(idleSettle):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return p.memory("VmRSS")
}

// copyExample copies the example service (endpoints/, and lib/ and
// config.json where they exist) from root to dst.
func copyExample(root, dst string) error {
	for _, name := range []string{"endpoints", "lib"} {
		err := os.CopyFS(filepath.Join(dst, name), os.DirFS(filepath.Join(root, name)))
		if err != nil && !(name == "lib" && errors.Is(err, fs.ErrNotExist)) {
			return err
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "config.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, "config.json"), b, 0o644)
}
