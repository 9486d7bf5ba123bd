package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/minimi-go/minimi/internal/config"
)

// clientName is what `minimi key` accepts as a client name.
var clientName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func keyCmd() *cobra.Command {
	var cidrs []string
	cmd := &cobra.Command{
		Use:   "key NAME",
		Short: "Make a client key: print it once, with the config.json entry that holds its SHA-256",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printKey(cmd.OutOrStdout(), args[0], cidrs)
		},
	}
	cmd.Flags().StringSliceVar(&cidrs, "cidr", nil, "address range the client may call from (repeatable), e.g. 10.0.0.0/8")
	return cmd
}

// newKey returns a random client key and the hex SHA-256 that config.json holds.
func newKey() (key, sum string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	key = config.ClientKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	s := sha256.Sum256([]byte(key))
	return key, hex.EncodeToString(s[:])
}

// clientEntry is one client as config.json's "clients" holds it.
type clientEntry struct {
	KeySHA256 string   `json:"key_sha256"`
	CIDRs     []string `json:"cidrs,omitempty"`
}

func printKey(w io.Writer, name string, cidrs []string) error {
	if !clientName.MatchString(name) {
		return fmt.Errorf("client name %q: want 1..64 letters, digits, '-' or '_'", name)
	}
	for _, c := range cidrs {
		if _, err := config.ParseCIDR(c); err != nil {
			return fmt.Errorf("--cidr %w", err)
		}
	}
	key, sum := newKey()
	snippet, err := json.MarshalIndent(map[string]map[string]clientEntry{
		"clients": {name: {KeySHA256: sum, CIDRs: cidrs}},
	}, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "key for client %q (shown only now; the client sends it as X-Client-Key):\n\n  %s\n\n", name, key)
	fmt.Fprintf(w, "add to config.json (only the SHA-256 is stored):\n\n%s\n", snippet)
	return nil
}
