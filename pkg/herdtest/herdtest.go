// Package herdtest runs a whole herd in the test process, for Go tests that
// need a control plane whose controllers really run: Start gives a
// *rest.Config for an API server with its own embedded etcd (in
// t.TempDir()), the built-in controllers, the scheduler and simulated nodes,
// optionally with CustomResourceDefinitions installed from a directory, and
// stops it at t.Cleanup. Several may run in parallel in one test binary;
// nothing needs root and nothing listens beyond loopback. It is the
// controller-running counterpart of controller-runtime's envtest.
package herdtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/herd-project/herd/pkg/server"
)

// Option changes what Start runs.
type Option func(*options)

type options struct {
	nodes   int
	crdDirs []string
	timeout time.Duration
	logs    bool
}

// WithNodes registers n simulated nodes (default 1); 0 runs no node agent.
func WithNodes(n int) Option { return func(o *options) { o.nodes = n } }

// WithCRDs installs the CustomResourceDefinitions of the YAML or JSON files
// in dir (as envtest's CRDDirectoryPaths) and waits until they are
// established.
func WithCRDs(dir string) Option { return func(o *options) { o.crdDirs = append(o.crdDirs, dir) } }

// WithStartTimeout bounds how long Start waits for the server (default 2m).
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithLogs keeps the server's klog output (it is discarded by default; the
// environment variable HERDTEST_LOGS=1 does the same for every instance).
func WithLogs() Option { return func(o *options) { o.logs = true } }

var quietOnce sync.Once

// quiet discards klog's output, which is process-wide: the first Start
// decides for the test binary.
func quiet() {
	quietOnce.Do(func() {
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		fs.Set("logtostderr", "false")
		fs.Set("alsologtostderr", "false")
		fs.Set("stderrthreshold", "FATAL")
		klog.SetOutput(io.Discard)
	})
}

// Start runs a herd for t and returns an admin *rest.Config for it. The
// server, its etcd and its nodes stop when t's cleanup runs.
func Start(t testing.TB, opts ...Option) *rest.Config {
	t.Helper()
	o := options{nodes: 1, timeout: 2 * time.Minute}
	for _, f := range opts {
		f(&o)
	}
	if !o.logs && os.Getenv("HERDTEST_LOGS") == "" {
		quiet()
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	so := server.Options{
		DataDir:  dir,
		Listen:   "127.0.0.1:0",
		NodeName: "herdtest",
		NodeIP:   "127.0.0.1",
	}
	if o.nodes > 0 {
		so.Runtime = "simulated"
		so.SimulatedNodes = o.nodes
	} else {
		so.DisableAgent = true
	}
	go func() { done <- server.Run(ctx, so) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Logf("herdtest: server stopped with: %v", err)
			}
		case <-time.After(time.Minute):
			t.Errorf("herdtest: server did not stop within a minute")
		}
	})

	cfg, err := waitForKubeconfig(ctx, server.KubeconfigPath(dir), done, o.timeout)
	if err != nil {
		t.Fatalf("herdtest: %v", err)
	}
	if o.nodes > 0 {
		if err := waitForNodes(ctx, cfg, o.nodes, o.timeout); err != nil {
			t.Fatalf("herdtest: %v", err)
		}
	}
	for _, d := range o.crdDirs {
		if err := InstallCRDs(ctx, cfg, d, o.timeout); err != nil {
			t.Fatalf("herdtest: %v", err)
		}
	}
	return cfg
}

func waitForKubeconfig(ctx context.Context, path string, done <-chan error, timeout time.Duration) (*rest.Config, error) {
	deadline := time.After(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			cfg, err := clientcmd.BuildConfigFromFlags("", path)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", path, err)
			}
			cfg.QPS, cfg.Burst = 200, 400
			return cfg, nil
		}
		select {
		case err := <-done:
			return nil, fmt.Errorf("the server stopped before it was ready: %v", err)
		case <-deadline:
			return nil, fmt.Errorf("the server was not ready within %s", timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func waitForNodes(ctx context.Context, cfg *rest.Config, n int, timeout time.Duration) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ready := 0
	for {
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			ready = 0
			for _, node := range nodes.Items {
				for _, c := range node.Status.Conditions {
					if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
						ready++
					}
				}
			}
			if ready >= n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d nodes ready after %s", ready, n, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// InstallCRDs creates (or updates) the CustomResourceDefinitions in the
// .yaml, .yml and .json files of dir and waits until they are established.
// Documents of other kinds are an error.
func InstallCRDs(ctx context.Context, cfg *rest.Config, dir string, timeout time.Duration) error {
	client, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading CRD directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
		for {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := dec.Decode(&crd); err != nil {
				f.Close()
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("%s: %w", path, err)
			}
			if crd.Kind == "" && crd.Name == "" {
				continue // an empty document
			}
			if crd.Kind != "CustomResourceDefinition" {
				f.Close()
				return fmt.Errorf("%s: a %s %q is not a CustomResourceDefinition", path, crd.Kind, crd.Name)
			}
			if err := createOrUpdate(ctx, client, &crd); err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", path, err)
			}
			names = append(names, crd.Name)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, name := range names {
		for !established(ctx, client, name) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("CustomResourceDefinition %s not established within %s", name, timeout)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

func createOrUpdate(ctx context.Context, client apiextensionsclient.Interface, crd *apiextensionsv1.CustomResourceDefinition) error {
	crds := client.ApiextensionsV1().CustomResourceDefinitions()
	_, err := crds.Create(ctx, crd, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	old, err := crds.Get(ctx, crd.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	crd.ResourceVersion = old.ResourceVersion
	_, err = crds.Update(ctx, crd, metav1.UpdateOptions{})
	return err
}

func established(ctx context.Context, client apiextensionsclient.Interface, name string) bool {
	crd, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false
	}
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}
