package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/minimi-go/minimi/internal/config"
)

// templateFS is the service that `minimi init` writes. A file ending in
// .tmpl is a text/template (see templateData) written without the suffix;
// renamed lists files written under another name.
//
//go:embed template
var templateFS embed.FS

// templateRoot is the template's directory inside templateFS.
const templateRoot = "template"

// renamed maps template files to the names they are written under: a
// dotfile inside the template would be left out by go:embed.
var renamed = map[string]string{"gitignore": ".gitignore"}

// defaultServiceName names a service whose directory name has nothing usable.
const defaultServiceName = "service"

// errNotEmpty is init into a directory that holds something, without --force.
var errNotEmpty = errors.New("directory is not empty (use --force to write into it anyway)")

// templateData is what the .tmpl files of the template see.
type templateData struct {
	Name string // the service name, valid for config.json
}

// initFlags are the flags of `minimi init`.
type initFlags struct {
	force bool
	name  string
}

func initCmd() *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Scaffold a service in DIR: config.json, a CRUD collection and a README",
		Long: `Write a new service into DIR: config.json, endpoints/ with a /todos collection
(schema, list and create, get, patch and delete with If-Match versions), a
README with curl examples and a .gitignore for its data. DIR is created if
needed and must be empty unless --force is given; with --force, files of the
template that exist are overwritten and every other file is left alone.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return scaffold(cmd.OutOrStdout(), args[0], f)
		},
	}
	cmd.Flags().BoolVar(&f.force, "force", false, "write into DIR even when it is not empty")
	cmd.Flags().StringVar(&f.name, "name", "", "service name: letters, digits, '-' and '_' (default: from DIR's name)")
	return cmd
}

// scaffold writes the template into dir and tells what to run next.
func scaffold(out io.Writer, dir string, f initFlags) error {
	name := f.name
	if name == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		name = serviceName(filepath.Base(abs))
	}
	files, err := renderTemplate(templateData{Name: name})
	if err != nil {
		return err
	}
	if err := checkTarget(dir, f.force); err != nil {
		return err
	}
	paths, replaced, err := writeFiles(dir, files)
	if err != nil {
		return err
	}
	printNext(out, dir, name, paths, replaced)
	return nil
}

// serviceName makes a directory name into a valid service name: every run
// of characters other than letters, digits, '-' and '_' becomes one '-'.
func serviceName(base string) string {
	var b strings.Builder
	dash := false
	for _, r := range base {
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return defaultServiceName
	}
	return s
}

// renderTemplate returns the template's files by slash path, rendered for
// data. It checks the rendered config.json the way serve checks a file, on
// its own: init reads nothing from the environment, which is serve's to
// apply and report on.
func renderTemplate(data templateData) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(templateFS, templateRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, templateRoot+"/")
		if strings.HasSuffix(rel, ".tmpl") {
			rel = strings.TrimSuffix(rel, ".tmpl")
			if b, err = renderFile(rel, b, data); err != nil {
				return err
			}
		}
		if to, ok := renamed[path.Base(rel)]; ok {
			rel = path.Join(path.Dir(rel), to)
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := config.ParseConfigWith(bytes.NewReader(files["config.json"]), config.Options{NoEnv: true}); err != nil {
		return nil, err
	}
	return files, nil
}

func renderFile(name string, text []byte, data templateData) ([]byte, error) {
	tmpl, err := template.New(name).Option("missingkey=error").Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// checkTarget makes sure dir may be written: it does not exist, or it is an
// empty directory, or force is set.
func checkTarget(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("init %s: %w", dir, err)
	case len(entries) > 0 && !force:
		return fmt.Errorf("init %s: %w", dir, errNotEmpty)
	}
	return nil
}

// writeFiles writes files under dir and returns their paths, sorted.
// It also returns the paths of files that existed with other content.
func writeFiles(dir string, files map[string][]byte) (paths []string, replaced map[string]bool, err error) {
	paths = make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	replaced = map[string]bool{}
	for _, p := range paths {
		target := filepath.Join(dir, filepath.FromSlash(p))
		if old, err := os.ReadFile(target); err == nil && !bytes.Equal(old, files[p]) {
			replaced[p] = true
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, nil, fmt.Errorf("init %s: %w", dir, err)
		}
		if err := os.WriteFile(target, files[p], 0o644); err != nil {
			return nil, nil, fmt.Errorf("init %s: %w", dir, err)
		}
	}
	return paths, replaced, nil
}

// printNext lists what init wrote and the commands to run next.
func printNext(out io.Writer, dir, name string, paths []string, replaced map[string]bool) {
	fmt.Fprintf(out, "created service %q in %s:\n", name, dir)
	for _, p := range paths {
		if replaced[p] {
			fmt.Fprintf(out, "  %s (overwritten)\n", p)
			continue
		}
		fmt.Fprintf(out, "  %s\n", p)
	}
	fmt.Fprintf(out, "\nnext:\n")
	fmt.Fprintf(out, "  minimi serve --dir %s --watch\n", shellQuote(dir))
	fmt.Fprintf(out, "  curl localhost:3000/todos -H 'Content-Type: application/json' -d '{\"title\": \"first\"}'\n")
	fmt.Fprintf(out, "  curl localhost:3000/todos\n")
	fmt.Fprintf(out, "\n%s has more curl examples.\n", filepath.Join(dir, "README.md"))
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path characters.
func shellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
