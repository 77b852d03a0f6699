package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/agent"
	agentruntime "github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/runtime/process"
	"github.com/herd-project/herd/pkg/agent/runtime/simulated"
	"github.com/herd-project/herd/pkg/apiserver"
	"github.com/herd-project/herd/pkg/controller/cronjob"
	"github.com/herd-project/herd/pkg/controller/deployment"
	"github.com/herd-project/herd/pkg/controller/garbagecollector"
	"github.com/herd-project/herd/pkg/controller/job"
	"github.com/herd-project/herd/pkg/controller/namespace"
	"github.com/herd-project/herd/pkg/controller/podgc"
	"github.com/herd-project/herd/pkg/controller/replicaset"
	"github.com/herd-project/herd/pkg/controller/resourcequota"
	"github.com/herd-project/herd/pkg/controller/serviceaccount"
	"github.com/herd-project/herd/pkg/controller/ttlafterfinished"
	"github.com/herd-project/herd/pkg/pki"
	"github.com/herd-project/herd/pkg/scheduler"
)

// startControllers runs the scheduler and every controller in the server
// process on the loopback client, until ctx ends.
func startControllers(ctx context.Context, srv *apiserver.Server) error {
	client := srv.Client
	clk := clock.RealClock{}
	bc := record.NewBroadcaster(record.WithContext(ctx))
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	go func() { <-ctx.Done(); bc.Shutdown() }()
	recorder := func(component string) record.EventRecorder {
		return bc.NewRecorder(clientscheme.Scheme, corev1.EventSource{Component: component})
	}
	// The collector and the namespace controller list every resource,
	// deprecated ones too: their deprecation warnings are not news.
	quiet := rest.CopyConfig(srv.Loopback)
	quiet.WarningHandler = rest.NoWarnings{}
	md, err := metadata.NewForConfig(quiet)
	if err != nil {
		return err
	}
	disc := memory.NewMemCacheClient(client.Discovery())
	f := srv.Informers

	sa := serviceaccount.New(client, f.Core().V1().Namespaces(), f.Core().V1().ServiceAccounts())
	sched := scheduler.New(client, f, recorder("default-scheduler"), clk)
	jobs := job.New(client, f, recorder("job-controller"), clk)
	ttl := ttlafterfinished.New(client, f, clk)
	cron := cronjob.New(client, f, recorder("cronjob-controller"), clk)
	rs := replicaset.New(client, f, recorder("replicaset-controller"), clk)
	deploy := deployment.New(client, f, recorder("deployment-controller"), clk)
	gc := garbagecollector.New(client, md, disc, recorder("garbage-collector-controller"), garbagecollector.Options{})
	ns := namespace.New(client, md, disc, f.Core().V1().Namespaces(), clk)
	pgc := podgc.New(client, f, clk, podgc.Options{})
	quotas := resourcequota.New(client, f, clk, resourcequota.Options{})

	f.Start(ctx.Done())
	go sa.Run(ctx, 2)
	go sched.Run(ctx, 1)
	go jobs.Run(ctx, 8)
	go ttl.Run(ctx, 2)
	go cron.Run(ctx, 16)
	go rs.Run(ctx, 8)
	go deploy.Run(ctx, 8)
	go gc.Run(ctx, 8)
	go ns.Run(ctx, 4)
	go pgc.Run(ctx, 1)
	go quotas.Run(ctx, 5)
	return nil
}

// agentSetup is what the in-process node agent needs from the server.
type agentSetup struct {
	dataDir   string
	ca        *pki.CA
	files     pki.Files
	token     string
	apiHost   net.IP
	apiPort   int
	nodeName  string
	nodeIP    string
	runtime   string
	simulated int
}

// startAgent runs the in-process node agent: its pods' runtime, its HTTPS
// endpoint for logs, exec and port-forward (verified by herd's CA; it
// accepts the API server's client certificate or the node token), node
// registration and pod workers.
func startAgent(ctx context.Context, client kubernetes.Interface, s agentSetup) error {
	nodeIP := s.nodeIP
	if nodeIP == "" {
		nodeIP = defaultNodeIP(s.apiHost)
	}
	names := []string{s.nodeName}
	if names[0] == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("no --node-name and no hostname: %w", err)
		}
		names[0] = strings.ToLower(h)
	}
	var rt agentruntime.Runtime
	stateDir := filepath.Join(s.dataDir, "agent")
	switch s.runtime {
	case "simulated":
		rt = simulated.New(simulated.Options{LogDir: filepath.Join(stateDir, "simulated-logs")})
		if s.simulated > 0 {
			names = names[:0]
			for i := 0; i < s.simulated; i++ {
				names = append(names, fmt.Sprintf("sim-%04d", i))
			}
		}
	default:
		// Pods share the host's network and there is no service proxy:
		// in-cluster clients reach the API at its real address.
		apiHost := nodeIP
		if s.apiHost != nil && !s.apiHost.IsUnspecified() {
			apiHost = s.apiHost.String()
		}
		p, err := process.New(process.Config{StateDir: stateDir, Client: client,
			KubernetesServiceHost: apiHost, KubernetesServicePort: s.apiPort})
		if err != nil {
			return err
		}
		rt = p
	}
	if ok, why := process.CgroupsAvailable(); !ok && s.runtime == "process" {
		klog.InfoS("container limits are not enforced on this node", "reason", why)
		go reportUnenforcedLimits(ctx, client, names[0], why, 500*time.Millisecond)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(nodeIP, "0"))
	if err != nil {
		return fmt.Errorf("agent endpoint: %w", err)
	}
	certFile, keyFile := filepath.Join(s.files.Dir, "agent.crt"), filepath.Join(s.files.Dir, "agent.key")
	hosts := append([]string{nodeIP, "127.0.0.1", "localhost"}, names...)
	if err := pki.EnsureServing(s.ca, certFile, keyFile, "herd-agent", hosts); err != nil {
		ln.Close()
		return fmt.Errorf("agent certificate: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		ln.Close()
		return err
	}
	a, err := agent.New(agent.Config{
		Client:         client,
		NodeNames:      names,
		Runtime:        rt,
		NodeIP:         nodeIP,
		KubeletPort:    ln.Addr().(*net.TCPAddr).Port,
		DataDir:        s.dataDir,
		AuthToken:      s.token,
		ClientCertUser: pki.AgentClientUser,
	})
	if err != nil {
		ln.Close()
		return err
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(s.ca.Cert)
	hs := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
			ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: clientCAs}}
	go func() {
		if err := hs.ServeTLS(ln, "", ""); err != nil && err != http.ErrServerClosed {
			klog.ErrorS(err, "agent endpoint stopped")
		}
	}()
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	go func() {
		if err := a.Run(ctx); err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "node agent stopped")
		}
	}()
	return nil
}

// defaultNodeIP: a server that listens on loopback only is a cluster of this
// machine alone, so its node is reached on loopback too; otherwise the first
// non-loopback IPv4 address.
func defaultNodeIP(apiHost net.IP) string {
	if apiHost != nil && apiHost.IsLoopback() {
		return apiHost.String()
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return "127.0.0.1"
}

// reportUnenforcedLimits tells users, with a Warning event on the node, that
// this node ignores container memory and cpu limits. It waits for the node
// to be registered.
func reportUnenforcedLimits(ctx context.Context, client kubernetes.Interface, nodeName, why string, poll time.Duration) {
	for {
		node, err := client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err == nil {
			now := metav1.Now()
			ev := &corev1.Event{
				ObjectMeta: metav1.ObjectMeta{GenerateName: nodeName + ".", Namespace: metav1.NamespaceDefault},
				InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: nodeName, UID: node.UID,
					APIVersion: "v1"},
				Reason:         "ContainerLimitsNotEnforced",
				Message:        why,
				Type:           corev1.EventTypeWarning,
				Source:         corev1.EventSource{Component: "kubelet", Host: nodeName},
				FirstTimestamp: now,
				LastTimestamp:  now,
				Count:          1,
			}
			if _, err := client.CoreV1().Events(metav1.NamespaceDefault).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
				klog.ErrorS(err, "recording that container limits are not enforced", "node", nodeName)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(poll):
		}
	}
}
