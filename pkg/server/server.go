// Package server runs a whole herd server process: it owns the data
// directory (lock, certificates, node token, embedded etcd), builds the API
// server, bootstraps the system namespaces, starts the in-process
// controllers, and writes the admin kubeconfig once the API is ready.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/grpclog"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"

	"github.com/herd-project/herd/pkg/apiserver"
	rbacbootstrap "github.com/herd-project/herd/pkg/auth/bootstrap"
	"github.com/herd-project/herd/pkg/etcd"
	"github.com/herd-project/herd/pkg/pki"
	"github.com/herd-project/herd/pkg/registry/core/service"
	rbacregistry "github.com/herd-project/herd/pkg/registry/rbac"
)

// Options configure a server.
type Options struct {
	// DataDir holds etcd, certificates, the node token and the kubeconfig.
	DataDir string
	// Listen is HOST:PORT for the API; port 0 picks a free one.
	Listen string
	// EtcdServers, when set, replaces the embedded etcd; EtcdCAFile,
	// EtcdCertFile and EtcdKeyFile secure the connection to it (TLS with a
	// client certificate), as kube-apiserver's --etcd-* flags.
	EtcdServers                           []string
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// EncryptionProviderConfig is a kube-apiserver EncryptionConfiguration
	// file; by default herd writes one to DataDir that encrypts Secrets with
	// aescbc under a key generated there.
	EncryptionProviderConfig string
	// AuditLogPath and AuditPolicyFile configure the audit log (off when
	// AuditLogPath is empty; the default policy logs every request's
	// metadata).
	AuditLogPath, AuditPolicyFile string
	// EventTTL is how long events are kept.
	EventTTL time.Duration

	// DisableAgent runs no node agent in the server process.
	DisableAgent bool
	// NodeName names the in-process agent's node (default: the hostname).
	NodeName string
	// NodeIP is the node's address (default: loopback when the API listens
	// on loopback, else the first non-loopback IPv4 address).
	NodeIP string
	// Runtime is "process" (default) or "simulated".
	Runtime string
	// SimulatedNodes, with the simulated runtime, registers that many nodes
	// sim-0000 … served by the one agent.
	SimulatedNodes int
	// SimulatedMissingImages, with the simulated runtime, are images whose
	// pull fails (ErrImagePull, then ImagePullBackOff).
	SimulatedMissingImages []string
}

// NodeTokenUser and NodeTokenGroup are the identity of the node token: like
// a kubeadm bootstrap token's, it may only ask to join.
const (
	NodeTokenUser  = "system:bootstrap:herd-node-token"
	NodeTokenGroup = "system:bootstrappers"
)

// SystemNamespaces exist in every cluster.
var SystemNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

// DefaultDataDir is /var/lib/herd for root, else $XDG_DATA_HOME/herd or ~/.local/share/herd.
func DefaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/herd"
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "herd")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "herd")
	}
	return filepath.Join(home, ".local", "share", "herd")
}

// KubeconfigPath is where the admin kubeconfig of dataDir is written.
func KubeconfigPath(dataDir string) string { return filepath.Join(dataDir, "admin.kubeconfig") }

// Run serves until ctx is cancelled, then shuts down cleanly.
func Run(ctx context.Context, o Options) error {
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir()
	}
	if !klog.V(4).Enabled() {
		// The etcd client's gRPC chatter (reconnects, closed health-check
		// connections) is noise to a user; -v=4 shows it.
		grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard))
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	// Keys, tokens and etcd live here: no other user may even list it,
	// whatever mode an existing directory had.
	if err := os.Chmod(o.DataDir, 0o700); err != nil {
		return fmt.Errorf("restricting data dir %s to its owner: %w", o.DataDir, err)
	}
	unlock, err := lockDataDir(o.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	// Scripts wait for the kubeconfig: never leave a stale one from a previous run.
	if err := os.Remove(KubeconfigPath(o.DataDir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing stale kubeconfig: %w", err)
	}

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (is another server using the port? pick another with --listen)", o.Listen, err)
	}
	addr := ln.Addr().(*net.TCPAddr)

	files := pki.Files{Dir: filepath.Join(o.DataDir, "tls")}
	ca, err := pki.Ensure(files, servingHosts(addr.IP))
	if err != nil {
		ln.Close()
		return fmt.Errorf("preparing certificates in %s: %w", files.Dir, err)
	}
	nodeToken, err := pki.EnsureToken(filepath.Join(o.DataDir, "node-token"))
	if err != nil {
		ln.Close()
		return fmt.Errorf("preparing node token: %w", err)
	}

	agentClient, err := tls.LoadX509KeyPair(files.AgentClientCert(), files.AgentClientKey())
	if err != nil {
		ln.Close()
		return fmt.Errorf("loading the API server's agent client certificate: %w", err)
	}
	nodes, err := newNodeConnector(ca.PEM, agentClient)
	if err != nil {
		ln.Close()
		return err
	}

	servers := o.EtcdServers
	etcdCA, etcdCert, etcdKey := o.EtcdCAFile, o.EtcdCertFile, o.EtcdKeyFile
	var embedded *etcd.Embedded
	if len(servers) == 0 {
		if _, err := pki.EnsureEtcd(files); err != nil {
			ln.Close()
			return fmt.Errorf("preparing etcd certificates in %s: %w", files.Dir, err)
		}
		embedded, err = etcd.Start(ctx, filepath.Join(o.DataDir, "etcd"), etcd.TLSFiles{
			CAFile: files.EtcdCACert(), CertFile: files.EtcdServerCert(), KeyFile: files.EtcdServerKey()})
		if err != nil {
			ln.Close()
			return err
		}
		defer embedded.Close()
		servers = []string{embedded.Endpoint}
		etcdCA, etcdCert, etcdKey = files.EtcdCACert(), files.EtcdClientCert(), files.EtcdClientKey()
	}
	encryptionConfig := o.EncryptionProviderConfig
	if encryptionConfig == "" {
		encryptionConfig, err = ensureEncryptionConfig(o.DataDir)
		if err != nil {
			ln.Close()
			return err
		}
	}
	auditPolicy := o.AuditPolicyFile
	if o.AuditLogPath != "" && auditPolicy == "" {
		auditPolicy, err = ensureDefaultAuditPolicy(o.DataDir)
		if err != nil {
			ln.Close()
			return err
		}
	}

	ids, err := newIdentities()
	if err != nil {
		ln.Close()
		return err
	}
	// The node token lets an agent join and nothing else: it is a
	// bootstrap identity, as a kubeadm bootstrap token's.
	tokens := map[string]*user.DefaultInfo{
		nodeToken: {Name: NodeTokenUser, Groups: []string{NodeTokenGroup}},
	}
	ids.addTo(tokens)
	guard := rbacregistry.NewGuard()
	apiCfg := apiserver.Config{
		Listener:                 ln,
		CertFile:                 files.ServingCert(),
		KeyFile:                  files.ServingKey(),
		ClientCAPEM:              ca.PEM,
		Tokens:                   tokens,
		EtcdServers:              servers,
		EtcdCAFile:               etcdCA,
		EtcdCertFile:             etcdCert,
		EtcdKeyFile:              etcdKey,
		EncryptionProviderConfig: encryptionConfig,
		AuditLogPath:             o.AuditLogPath,
		AuditPolicyFile:          auditPolicy,
		Definitions:              append(Definitions(o.EventTTL, nodes), RBACDefinitions(guard)...),
		RBACGuard:                guard,
	}
	withMetrics(&apiCfg, nodes)
	issuer, err := withServiceAccounts(files, &apiCfg)
	if err != nil {
		ln.Close()
		return err
	}
	srv, err := apiserver.New(apiCfg)
	if err != nil {
		return err
	}
	// The controllers' caches are their own: /readyz waits for the API
	// server's informers (authorization, admission), not for controllers to
	// have read every pod.
	ctrlInformers := newControllerInformers(srv)
	policyReady := make(chan struct{})
	srv.Generic.AddPostStartHookOrDie("rbac/bootstrap-roles", func(hc genericapiserver.PostStartHookContext) error {
		defer close(policyReady)
		return rbacbootstrap.Ensure(hc, srv.Client)
	})
	srv.Generic.AddPostStartHookOrDie("herd-service-accounts", func(hc genericapiserver.PostStartHookContext) error {
		setTokenGetter(srv, ctrlInformers, issuer)
		startWhenReady(hc, "the root CA publisher", func(ctx context.Context) error {
			waitForPolicyInCache(ctx, srv.Informers)
			return startRootCAPublisher(ctx, ctrlInformers, ids.client(srv.Loopback, "root-ca-cert-publisher"), ca.PEM)
		}, policyReady)
		return nil
	})
	nodes.setClient(srv.Client)
	srv.Generic.AddPostStartHookOrDie("herd-bootstrap", func(hc genericapiserver.PostStartHookContext) error {
		return bootstrap(hc, srv.Client)
	})
	// The controllers and the node agent start in the background once the
	// bootstrap policy is in place: readiness means that the API serves, so
	// /readyz does not wait for them; they catch up after.
	srv.Generic.AddPostStartHookOrDie("herd-controllers", func(hc genericapiserver.PostStartHookContext) error {
		// The controllers' identities are authorized by the bootstrap policy.
		startWhenReady(hc, "the controllers", func(ctx context.Context) error {
			waitForPolicyInCache(ctx, srv.Informers)
			return startControllers(ctx, srv, ctrlInformers, ids)
		}, policyReady)
		return nil
	})
	if !o.DisableAgent {
		setup := agentSetup{dataDir: o.DataDir, ca: ca, files: files, apiHost: addr.IP, apiPort: addr.Port,
			nodeName: o.NodeName, nodeIP: o.NodeIP, runtime: o.Runtime, simulated: o.SimulatedNodes,
			missingImages: o.SimulatedMissingImages}
		srv.Generic.AddPostStartHookOrDie("herd-node-agent", func(hc genericapiserver.PostStartHookContext) error {
			// The agent's node identity is authorized by the bootstrap policy.
			startWhenReady(hc, "the node agent", func(ctx context.Context) error {
				waitForPolicyInCache(ctx, srv.Informers)
				return startAgent(ctx, srv.Loopback, setup)
			}, policyReady)
			return nil
		})
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if embedded != nil {
		go func() {
			select {
			case err := <-embedded.Err():
				klog.ErrorS(err, "embedded etcd failed; stopping")
				cancel()
			case <-runCtx.Done():
			}
		}()
	}
	go func() {
		if err := writeKubeconfigWhenReady(runCtx, o.DataDir, addr, files, ca); err != nil && runCtx.Err() == nil {
			klog.ErrorS(err, "writing admin kubeconfig")
		}
	}()
	prepared, err := srv.PrepareRun()
	if err != nil {
		return err
	}
	klog.InfoS("herd API server starting", "address", addr.String(), "dataDir", o.DataDir)
	err = prepared.RunWithContext(runCtx)
	// A stopped server leaves no kubeconfig behind for scripts to mistake
	// for a ready one.
	os.Remove(KubeconfigPath(o.DataDir))
	return err
}

// lockDataDir takes an exclusive lock on dir so that two servers never share it.
func lockDataDir(dir string) (func(), error) {
	path := filepath.Join(dir, "herd.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := io.ReadAll(f)
		f.Close()
		pid := strings.TrimSpace(string(b))
		if pid == "" {
			pid = "unknown"
		}
		return nil, fmt.Errorf("data dir %s is in use by another herd server (pid %s); stop it or choose another --data-dir", dir, pid)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// servingHosts are the names the serving certificate must cover.
func servingHosts(ip net.IP) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		service.ServiceCIDR.Addr().Next().String()}
	if h, err := os.Hostname(); err == nil {
		hosts = append(hosts, h)
	}
	if ip != nil && !ip.IsUnspecified() {
		hosts = append(hosts, ip.String())
		return hosts
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
			hosts = append(hosts, n.IP.String())
		}
	}
	return hosts
}

// bootstrap creates the system namespaces and the kubernetes service.
func bootstrap(ctx context.Context, c kubernetes.Interface) error {
	for _, name := range SystemNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := retryCreate(ctx, func() error {
			_, err := c.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
			return err
		}); err != nil {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: service.ServiceCIDR.Addr().Next().String(),
			Ports:     []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}},
		},
	}
	return retryCreate(ctx, func() error {
		_, err := c.CoreV1().Services(metav1.NamespaceDefault).Create(ctx, svc, metav1.CreateOptions{})
		return err
	})
}

func retryCreate(ctx context.Context, create func() error) error {
	for {
		err := create()
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		klog.V(2).InfoS("bootstrap create failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// writeKubeconfigWhenReady waits until /readyz answers ok through the real
// address with the admin credentials, then writes the kubeconfig atomically.
func writeKubeconfigWhenReady(ctx context.Context, dataDir string, addr *net.TCPAddr, files pki.Files, ca *pki.CA) error {
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	serverURL := "https://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
	cert, err := tls.LoadX509KeyPair(files.AdminCert(), files.AdminKey())
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
	}}
	for {
		resp, err := client.Get(serverURL + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ok" {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	certPEM, err := os.ReadFile(files.AdminCert())
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(files.AdminKey())
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["herd"] = &clientcmdapi.Cluster{Server: serverURL, CertificateAuthorityData: ca.PEM}
	cfg.AuthInfos["herd-admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts["herd"] = &clientcmdapi.Context{Cluster: "herd", AuthInfo: "herd-admin", Namespace: metav1.NamespaceDefault}
	cfg.CurrentContext = "herd"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	if err := pki.WriteFileAtomic(KubeconfigPath(dataDir), data, 0o600); err != nil {
		return err
	}
	klog.InfoS("herd API server ready", "kubeconfig", KubeconfigPath(dataDir), "server", serverURL)
	return nil
}
