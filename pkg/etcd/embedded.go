// Package etcd runs the embedded etcd member that backs a single herd server.
// It only starts and stops etcd; how the API server talks to it (codecs, key
// prefixes, watch cache) is the apiserver package's business.
package etcd

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
)

// Embedded is a running single-member etcd.
type Embedded struct {
	etcd    *embed.Etcd
	closing *atomic.Bool
	// Endpoint is the client URL the API server should use.
	Endpoint string
}

// TLSFiles are the PEM files etcd serves and authenticates with: its CA
// (which must sign every client's certificate), and its own certificate, used
// for the client listener and the (unused) peer listener alike.
type TLSFiles struct {
	CAFile, CertFile, KeyFile string
}

// Start starts a single-member etcd storing its data in dir. Clients reach it
// over TLS on a loopback port chosen by the kernel and must present a client
// certificate signed by tlsFiles.CAFile: no other local user or process can
// read or write it. Peers are not used but etcd needs a peer listener, which
// is bound to a free loopback port with the same mutual TLS.
func Start(ctx context.Context, dir string, tlsFiles TLSFiles) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating etcd data dir: %w", err)
	}
	// An existing directory may have been created with looser permissions.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restricting etcd data dir: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Name = "herd"
	cfg.Dir = dir
	cfg.WalDir = filepath.Join(dir, "member", "wal")
	clientURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	peerURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	tlsInfo := transport.TLSInfo{
		CertFile:       tlsFiles.CertFile,
		KeyFile:        tlsFiles.KeyFile,
		TrustedCAFile:  tlsFiles.CAFile,
		ClientCertAuth: true,
	}
	cfg.ClientTLSInfo = tlsInfo
	cfg.PeerTLSInfo = tlsInfo
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// The API server compacts itself every 5 minutes; etcd keeps a bounded history.
	cfg.AutoCompactionMode = embed.CompactorModeRevision
	cfg.AutoCompactionRetention = "10000"
	cfg.QuotaBackendBytes = 8 * 1024 * 1024 * 1024
	cfg.MaxRequestBytes = 3 * 1024 * 1024
	cfg.LogLevel = "error"
	closing := &atomic.Bool{}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(quietLogger(closing))
	// Keep etcd's own metrics and pprof off the network.
	cfg.Metrics = "basic"

	start := time.Now()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s was not ready after 60s", dir)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	klog.V(2).InfoS("Embedded etcd ready", "dir", dir, "took", time.Since(start))
	return &Embedded{etcd: e, closing: closing, Endpoint: clientURL.String()}, nil
}

// Err reports a fatal etcd error after start.
func (e *Embedded) Err() <-chan error { return e.etcd.Err() }

// Close stops etcd, flushing its data.
func (e *Embedded) Close() {
	e.closing.Store(true)
	e.etcd.Close()
}

func freeLoopbackURL() (*url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("finding a free loopback port for etcd: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	return &url.URL{Scheme: "https", Host: addr}, nil
}

// quietLogger writes etcd's errors only, and once etcd is being closed not
// the errors of its listeners stopping, which say nothing to a user.
func quietLogger(closing *atomic.Bool) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(os.Stderr), zapcore.ErrorLevel)
	return zap.New(&shutdownFilter{Core: core, closing: closing})
}

type shutdownFilter struct {
	zapcore.Core
	closing *atomic.Bool
}

func (f *shutdownFilter) With(fields []zapcore.Field) zapcore.Core {
	return &shutdownFilter{Core: f.Core.With(fields), closing: f.closing}
}

func (f *shutdownFilter) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if f.closing.Load() && strings.HasPrefix(e.Message, "setting up serving from embedded etcd failed") {
		return ce
	}
	if f.Enabled(e.Level) {
		return ce.AddCore(e, f)
	}
	return ce
}
