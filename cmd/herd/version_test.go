package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/herd-project/herd/pkg/apiserver"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "herd ") ||
		lines[1] != "Kubernetes API v"+apiserver.KubernetesVersion || lines[2] != "Go "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("herd version:\n%s", out.String())
	}
	version = "v9.9.9"
	defer func() { version = "" }()
	out.Reset()
	printVersion(&out)
	if !strings.HasPrefix(out.String(), "herd v9.9.9") {
		t.Errorf("with -X main.version: %s", out.String())
	}
}
