package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/minimi-go/minimi/internal/server"
)

// printRoutes writes the route table as aligned text: one line per folder,
// then one indented line per processor.
func printRoutes(w io.Writer, routes []server.Route) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "URL\tMETHODS\tPHASE\tFILE\tHANDLERS")
	for _, r := range routes {
		methods := strings.Join(r.Methods, ",")
		if methods == "" {
			methods = "-"
		}
		url := r.URL
		if r.Kind == "group" {
			url += " (group)"
		}
		if len(r.Phases) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t\t\t\n", url, methods)
		}
		for i, p := range r.Phases {
			if i > 0 {
				url, methods = "", ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", url, methods, p.Phase, p.File, strings.Join(p.Handlers, ", "))
		}
		if r.Stash != "" || r.Schema != "" {
			fmt.Fprintf(tw, "\t\tstash\t%s\t\n", strings.TrimSpace(r.Schema+" "+r.Stash))
		}
	}
	return tw.Flush()
}
