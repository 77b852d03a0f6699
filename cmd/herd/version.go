package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/herd-project/herd/pkg/apiserver"
)

// version is herd's own version, set at build time with
// -ldflags "-X main.version=v1.2.3"; otherwise it comes from the module's
// build information ("(devel)" for a build from a checkout).
var version = ""

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print herd's version, the Kubernetes API version it serves and the Go version it was built with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			printVersion(cmd.OutOrStdout())
			return nil
		},
	}
}

func printVersion(w io.Writer) {
	v, commit, date, modified := version, "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				date = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	line := "herd " + v
	if commit != "" {
		line += ", commit " + commit
		if modified {
			line += " (modified)"
		}
	}
	if date != "" {
		line += ", " + date
	}
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "Kubernetes API v%s\n", apiserver.KubernetesVersion)
	fmt.Fprintf(w, "Go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
