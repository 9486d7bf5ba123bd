package server

import (
	"context"
	"fmt"

	"github.com/minimi-go/minimi/internal/stash"
)

// RunInstalls runs every install script that has not run yet against the
// site's stores, each as one command. Its marker in InstallsCollection
// commits with its writes, so a script runs once even across crashes.
func (s *Site) RunInstalls(ctx context.Context) (ran []string, err error) {
	set := s.backend.Stash
	if set == nil {
		return nil, nil
	}
	for _, f := range s.Engine.Installs() {
		ss := set.Session()
		if _, err := ss.Get(InstallsCollection, f.URL, stash.ReadOptions{}); err == nil {
			continue
		}
		if _, err := ss.Create(InstallsCollection, stash.Record{"id": f.URL}); err != nil {
			return ran, fmt.Errorf("install %s: %w", f.URL, err)
		}
		cmd, err := s.Engine.RunInstall(ctx, f, ss)
		if err != nil {
			return ran, fmt.Errorf("install %s: %w", f.URL, err)
		}
		if commit := s.backend.commit(s.Config); commit != nil {
			err = commit(ctx, cmd)
		} else {
			_, err = set.Commit(ss)
		}
		if err != nil {
			return ran, fmt.Errorf("install %s: %w", f.URL, err)
		}
		ran = append(ran, f.URL)
	}
	return ran, nil
}
