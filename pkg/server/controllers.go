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
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/agent"
	"github.com/herd-project/herd/pkg/agent/localpath"
	agentruntime "github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/runtime/process"
	"github.com/herd-project/herd/pkg/agent/runtime/simulated"
	"github.com/herd-project/herd/pkg/agent/token"
	"github.com/herd-project/herd/pkg/apiserver"
	"github.com/herd-project/herd/pkg/controller/clusterroleaggregation"
	"github.com/herd-project/herd/pkg/controller/cronjob"
	"github.com/herd-project/herd/pkg/controller/daemon"
	"github.com/herd-project/herd/pkg/controller/deployment"
	"github.com/herd-project/herd/pkg/controller/garbagecollector"
	"github.com/herd-project/herd/pkg/controller/job"
	"github.com/herd-project/herd/pkg/controller/namespace"
	"github.com/herd-project/herd/pkg/controller/podgc"
	"github.com/herd-project/herd/pkg/controller/replicaset"
	"github.com/herd-project/herd/pkg/controller/replicationcontroller"
	"github.com/herd-project/herd/pkg/controller/resourcequota"
	"github.com/herd-project/herd/pkg/controller/serviceaccount"
	"github.com/herd-project/herd/pkg/controller/statefulset"
	"github.com/herd-project/herd/pkg/controller/ttlafterfinished"
	volumectrl "github.com/herd-project/herd/pkg/controller/volume"
	"github.com/herd-project/herd/pkg/pki"
	"github.com/herd-project/herd/pkg/scheduler"
	"github.com/herd-project/herd/pkg/volume"
)

// newControllerInformers is the informer factory the in-process controllers
// share, on the loopback client. It is not the API server's
// (srv.Informers): the generic /readyz check "informer-sync" waits for
// every informer of that one, and readiness means that the API serves, not
// that controllers have listed every pod; they catch up after.
func newControllerInformers(srv *apiserver.Server) informers.SharedInformerFactory {
	return informers.NewSharedInformerFactory(srv.Client, 0)
}

// startControllers runs the scheduler and every controller in the server
// process until ctx ends, each with its own identity (ids) and user agent;
// the shared informers f stay on the loopback client.
func startControllers(ctx context.Context, srv *apiserver.Server, f informers.SharedInformerFactory, ids *identities) error {
	client := srv.Client
	clientFor := func(name string) kubernetes.Interface { return ids.client(srv.Loopback, name) }
	clk := clock.RealClock{}
	bc := record.NewBroadcaster(record.WithContext(ctx))
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	go func() { <-ctx.Done(); bc.Shutdown() }()
	recorder := func(component string) record.EventRecorder {
		return bc.NewRecorder(clientscheme.Scheme, corev1.EventSource{Component: component})
	}
	// The collector and the namespace controller list every resource,
	// deprecated ones too: their deprecation warnings are not news.
	quietFor := func(name string) (metadata.Interface, discovery.CachedDiscoveryInterface, error) {
		quiet := ids.config(srv.Loopback, name)
		quiet.WarningHandler = rest.NoWarnings{}
		md, err := metadata.NewForConfig(quiet)
		if err != nil {
			return nil, nil, err
		}
		return md, memory.NewMemCacheClient(kubernetes.NewForConfigOrDie(quiet).Discovery()), nil
	}
	gcMD, gcDisc, err := quietFor("generic-garbage-collector")
	if err != nil {
		return err
	}
	nsMD, nsDisc, err := quietFor("namespace-controller")
	if err != nil {
		return err
	}
	sa := serviceaccount.New(clientFor("service-account-controller"), f.Core().V1().Namespaces(), f.Core().V1().ServiceAccounts())
	sched := scheduler.New(clientFor(schedulerIdentity), f, recorder("default-scheduler"), clk)
	jobs, err := job.New(clientFor("job-controller"), f, recorder("job-controller"), clk)
	if err != nil {
		return err
	}
	ttl := ttlafterfinished.New(clientFor("ttl-after-finished-controller"), f, clk)
	cron := cronjob.New(clientFor("cronjob-controller"), f, recorder("cronjob-controller"), clk)
	rs, err := replicaset.New(clientFor("replicaset-controller"), f, recorder("replicaset-controller"), clk)
	if err != nil {
		return err
	}
	deploy := deployment.New(clientFor("deployment-controller"), f, recorder("deployment-controller"), clk)
	gc := garbagecollector.New(clientFor("generic-garbage-collector"), gcMD, gcDisc, recorder("garbage-collector-controller"), garbagecollector.Options{})
	ns := namespace.New(clientFor("namespace-controller"), nsMD, nsDisc, f.Core().V1().Namespaces(), clk)
	pgc := podgc.New(clientFor("pod-garbage-collector"), f, clk, podgc.Options{})
	agg := clusterroleaggregation.New(clientFor("clusterrole-aggregation-controller"), f.Rbac().V1().ClusterRoles())
	vol := volumectrl.New(clientFor, client, f, recorder, clk)
	sts := statefulset.New(clientFor("statefulset-controller"), f, recorder("statefulset-controller"), clk)
	dsc, err := daemon.New(clientFor("daemon-set-controller"), f, recorder("daemonset-controller"), clk)
	if err != nil {
		return err
	}
	rc, err := replicationcontroller.New(clientFor("replication-controller"), f, recorder("replication-controller"), clk)
	if err != nil {
		return err
	}
	rqMD, _, err := quietFor("resourcequota-controller")
	if err != nil {
		return err
	}
	quotas := resourcequota.New(clientFor("resourcequota-controller"), f, clk, resourcequota.Options{Metadata: rqMD})
	hpa, err := newHPAController(srv, ids, clientFor("horizontal-pod-autoscaler"), f, recorder("horizontal-pod-autoscaler"), clk)
	if err != nil {
		return err
	}

	f.Start(ctx.Done())
	go sa.Run(ctx, 2)
	go sched.Run(ctx, 1)
	go jobs.Run(ctx, 8)
	go ttl.Run(ctx, 2)
	go cron.Run(ctx, 16)
	go rs.Run(ctx, 8)
	go rc.Run(ctx, 2)
	go deploy.Run(ctx, 8)
	go dsc.Run(ctx, 4)
	go gc.Run(ctx, 8)
	go ns.Run(ctx, 4)
	go pgc.Run(ctx, 1)
	go agg.Run(ctx, 1)
	go vol.Run(ctx)
	go sts.Run(ctx, 8)
	go quotas.Run(ctx, 5)
	go hpa.Run(ctx, 5)
	return nil
}

// startWhenReady runs start in the background once every gate is closed,
// until ctx ends. An error stops the process, as a failed post-start hook
// does.
func startWhenReady(ctx context.Context, what string, start func(context.Context) error, gates ...<-chan struct{}) {
	go func() {
		for _, g := range gates {
			select {
			case <-g:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err := start(ctx); err != nil && ctx.Err() == nil {
			klog.Fatalf("starting %s: %v", what, err)
		}
	}()
}

// agentSetup is what the in-process node agent needs from the server.
type agentSetup struct {
	dataDir   string
	ca        *pki.CA
	files     pki.Files
	apiHost   net.IP
	apiPort   int
	nodeName  string
	nodeIP    string
	runtime   string
	simulated int
	// missingImages: the simulated runtime fails to pull them.
	missingImages []string
}

// startAgent runs the in-process node agent: its pods' runtime, its HTTPS
// endpoint for logs, exec and port-forward (it accepts only the API server's
// client certificate, signed by the agent-client CA), node registration and
// pod workers. The agent reaches the API as its node, system:node:<name> in
// group system:nodes, with a client certificate of its own.
func startAgent(ctx context.Context, loopback *rest.Config, s agentSetup) error {
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
	client, err := nodeClient(loopback, s.ca, s.files, names[0])
	if err != nil {
		return err
	}
	var rt agentruntime.Runtime
	stateDir := filepath.Join(s.dataDir, "agent")
	switch s.runtime {
	case "simulated":
		sim := simulated.New(simulated.Options{LogDir: filepath.Join(stateDir, "simulated-logs"), MissingImages: s.missingImages})
		go func() { <-ctx.Done(); sim.Close() }()
		rt = sim
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
		p, err := process.New(process.Config{StateDir: stateDir, Client: client, Tokens: token.NewManager(client, nil),
			KubernetesServiceHost: apiHost, KubernetesServicePort: s.apiPort,
			MaskPaths: []string{s.dataDir}})
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
		Annotations:    map[string]string{volume.AnnLocalPathDir: localpath.Dir(s.dataDir)},
		ClientCertUser: pki.AgentClientUser,
		// Simulated agents also serve the nodes users create with the
		// simulate.herd.dev/node annotation.
		ServeAnnotatedNodes: s.runtime == "simulated",
	})
	if err != nil {
		ln.Close()
		return err
	}
	agentClientCA, err := pki.EnsureAgentClientCA(s.files)
	if err != nil {
		ln.Close()
		return err
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(agentClientCA.Cert)
	hs := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}}
	go func() {
		if err := hs.ServeTLS(ln, "", ""); err != nil && err != http.ErrServerClosed {
			klog.ErrorS(err, "agent endpoint stopped")
		}
	}()
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	go localpath.New(client, localpath.Options{Dir: localpath.Dir(s.dataDir), Nodes: names,
		RemoveDirs: s.runtime != "simulated"}).Run(ctx)
	go func() {
		if err := a.Run(ctx); err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "node agent stopped")
		}
	}()
	return nil
}

// nodeClient is the in-process agent's client: the loopback connection with
// the node's own client certificate instead of the loopback's privileged
// token, so the agent has exactly the permissions of a node.
func nodeClient(loopback *rest.Config, ca *pki.CA, files pki.Files, nodeName string) (kubernetes.Interface, error) {
	user := "system:node:" + nodeName
	if err := pki.EnsureClient(ca, files.NodeClientCert(), files.NodeClientKey(), user, []string{"system:nodes"}); err != nil {
		return nil, fmt.Errorf("issuing the node agent's client certificate: %w", err)
	}
	cfg := rest.CopyConfig(loopback)
	cfg.BearerToken, cfg.BearerTokenFile = "", ""
	cfg.CertFile, cfg.KeyFile = files.NodeClientCert(), files.NodeClientKey()
	cfg.UserAgent = "herd-agent/" + nodeName
	return kubernetes.NewForConfig(cfg)
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
