// Package agent is herd's node agent (our kubelet): it registers one or more
// Nodes, keeps them alive with Leases, runs the pods bound to them through a
// runtime.Runtime and reports their status, probes, hooks, graceful deletion
// and logs the way the kubelet does. It does not schedule pods, pull images,
// manage volumes or networks itself; the runtime does what it can.
package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/agent/runtime"
	"github.com/herd-project/herd/pkg/agent/stats"
)

const (
	// KubeletVersion is what the nodes report as nodeInfo.kubeletVersion.
	KubeletVersion = "v1.36.6+herd"
	// NodeLeaseNamespace holds the nodes' heartbeat Leases.
	NodeLeaseNamespace = "kube-node-lease"
	// LeaseDurationSeconds is the Leases' spec.leaseDurationSeconds.
	LeaseDurationSeconds = 40
	// LeaseRenewInterval is how often the Leases are renewed.
	LeaseRenewInterval = 10 * time.Second
	// NodeStatusUpdateInterval is how often node status is computed; it is
	// written when it changed or NodeStatusReportInterval has passed.
	NodeStatusUpdateInterval = 10 * time.Second
	// NodeStatusReportInterval is the longest time between node status writes.
	NodeStatusReportInterval = time.Minute

	uidIndex = "uid"
)

// Config configures an Agent.
type Config struct {
	Client kubernetes.Interface
	// NodeNames are the nodes this agent registers and serves (one
	// normally; sim-0000… for simulated nodes).
	NodeNames []string
	Runtime   runtime.Runtime
	// Clock defaults to the real clock.
	Clock clock.WithTicker
	// NodeIP is the nodes' InternalIP and every pod's IP (pods share the
	// host network). Default: the first non-loopback IPv4 address, else
	// 127.0.0.1.
	NodeIP string
	// Capacity overrides (per resource) the capacity read from the machine.
	// For the simulated runtime the default is 32 cpu, 256Gi memory, 1Ti
	// ephemeral-storage, 110 pods.
	Capacity corev1.ResourceList
	// KubeletPort goes into node.status.daemonEndpoints.kubeletEndpoint.
	KubeletPort int
	// Labels and Taints are added to the nodes at registration.
	Labels map[string]string
	Taints []corev1.Taint
	// Annotations are set on the agent's nodes (e.g. where local volumes live).
	Annotations map[string]string
	// DataDir is statfs-ed for ephemeral-storage (default: os.TempDir()).
	DataDir string
	// ClientCertUser is the common name of the one client certificate
	// (verified by the TLS server against the agent-client CA) that Handler
	// accepts: the API server's. When empty, every request is refused.
	ClientCertUser string
	// Broadcaster sends events; default: one created on Client.
	Broadcaster record.EventBroadcaster
	// Recorder, when set, records every event instead of the broadcaster's
	// per-node recorders (tests use record.NewFakeRecorder).
	Recorder record.EventRecorder
	// Workers is the number of pod sync workers (default 16).
	Workers int
	// ServeAnnotatedNodes makes the agent also serve the Nodes that users
	// create with the annotation SimulatedNodeAnnotation: "true" (simulated
	// runtime only, as kwok does).
	ServeAnnotatedNodes bool
}

// Agent is a running node agent.
type Agent struct {
	cfg     Config
	client  kubernetes.Interface
	rt      runtime.Runtime
	prober  runtime.Prober
	clk     clock.WithTicker
	nodeIP  string
	bcast   record.EventBroadcaster
	ownBc   bool
	nodeInf cache.SharedIndexInformer

	// servedMu guards nodes (every node served, configured or adopted),
	// rec and adopted.
	servedMu sync.RWMutex
	nodes    map[string]bool
	rec      map[string]record.EventRecorder
	adopted  []string
	factory  informers.SharedInformerFactory
	podInf   cache.SharedIndexInformer
	queue    workqueue.TypedRateLimitingInterface[string]

	mu      sync.Mutex
	pods    map[types.UID]*podState
	nodeMu  sync.Mutex
	nodeSt  map[string]*nodeState
	machine machineInfo
	// stats turns the runtime's counters into usage rates.
	stats *stats.Sampler

	// ctx is the agent's run context, for goroutines started by syncs.
	ctx context.Context
}

// New returns an agent; Run starts it.
func New(cfg Config) (*Agent, error) {
	if cfg.Client == nil {
		return nil, errors.New("agent: Client is required")
	}
	if cfg.Runtime == nil {
		return nil, errors.New("agent: Runtime is required")
	}
	if len(cfg.NodeNames) == 0 {
		return nil, errors.New("agent: at least one node name is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.DataDir == "" {
		cfg.DataDir = os.TempDir()
	}
	a := &Agent{
		cfg:    cfg,
		client: cfg.Client,
		rt:     cfg.Runtime,
		clk:    cfg.Clock,
		nodes:  map[string]bool{},
		stats:  stats.NewSampler(),
		rec:    map[string]record.EventRecorder{},
		pods:   map[types.UID]*podState{},
		nodeSt: map[string]*nodeState{},
		ctx:    context.Background(),
	}
	if p, ok := cfg.Runtime.(runtime.Prober); ok {
		a.prober = p
	}
	a.nodeIP = cfg.NodeIP
	if a.nodeIP == "" {
		a.nodeIP = defaultNodeIP()
	}
	for _, n := range cfg.NodeNames {
		if a.nodes[n] {
			return nil, fmt.Errorf("agent: node name %q given twice", n)
		}
		a.nodes[n] = true
	}
	a.bcast = cfg.Broadcaster
	if a.bcast == nil && cfg.Recorder == nil {
		a.bcast = record.NewBroadcaster()
		a.ownBc = true
	}
	for _, n := range cfg.NodeNames {
		if cfg.Recorder != nil {
			a.rec[n] = cfg.Recorder
		} else {
			a.rec[n] = a.bcast.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: n})
		}
	}
	a.machine = readMachineInfo(cfg.Runtime.Name() == "simulated", cfg.DataDir)

	selector := fields.OneTermNotEqualSelector("spec.nodeName", "").String()
	if len(cfg.NodeNames) == 1 && !cfg.ServeAnnotatedNodes {
		selector = fields.OneTermEqualSelector("spec.nodeName", cfg.NodeNames[0]).String()
	}
	a.factory = informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }))
	a.podInf = a.factory.Core().V1().Pods().Informer()
	if err := a.podInf.AddIndexers(cache.Indexers{uidIndex: func(obj interface{}) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok {
			return []string{string(p.UID)}, nil
		}
		return nil, nil
	}}); err != nil {
		return nil, err
	}
	a.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 30*time.Second),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "agent-pods", Clock: cfg.Clock})
	_, err := a.podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.onPod,
		UpdateFunc: func(_, obj interface{}) { a.onPod(obj) },
		DeleteFunc: a.onPod,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Agent) onPod(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok || !a.serves(p.Spec.NodeName) {
		return
	}
	a.queue.Add(string(p.UID))
}

// NodeNames returns the nodes the agent serves: the configured ones, then
// the adopted ones.
func (a *Agent) NodeNames() []string {
	a.servedMu.RLock()
	defer a.servedMu.RUnlock()
	return append(append([]string(nil), a.cfg.NodeNames...), a.adopted...)
}

// serves reports whether the agent runs the pods bound to node.
func (a *Agent) serves(node string) bool {
	a.servedMu.RLock()
	defer a.servedMu.RUnlock()
	return a.nodes[node]
}

// Run registers the nodes, recovers the runtime's containers and runs the
// pods until ctx is done.
func (a *Agent) Run(ctx context.Context) error {
	defer utilruntime.HandleCrash()
	defer a.queue.ShutDown()
	logger := klog.FromContext(ctx)
	a.ctx = ctx
	if a.ownBc && a.bcast != nil {
		a.bcast.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: a.client.CoreV1().Events("")})
		defer a.bcast.Shutdown()
	}
	if err := a.registerNodes(ctx); err != nil {
		return err
	}
	if a.cfg.ServeAnnotatedNodes {
		a.watchAnnotatedNodes(ctx)
	}
	go a.factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), a.podInf.HasSynced) {
		return ctx.Err()
	}
	if err := a.recover(ctx); err != nil {
		return err
	}
	go a.exitLoop(ctx)
	go a.leaseLoop(ctx)
	go a.nodeStatusLoop(ctx)
	go a.volumeRefreshLoop(ctx)
	go a.statsLoop()
	logger.V(2).Info("Node agent started", "nodes", len(a.cfg.NodeNames), "runtime", a.rt.Name())
	var wg sync.WaitGroup
	for i := 0; i < a.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait.UntilWithContext(ctx, a.worker, time.Second)
		}()
	}
	<-ctx.Done()
	a.queue.ShutDown()
	wg.Wait()
	a.stopAllProbes()
	return nil
}

func (a *Agent) worker(ctx context.Context) {
	for a.processNext(ctx) {
	}
}

func (a *Agent) processNext(ctx context.Context) bool {
	key, quit := a.queue.Get()
	if quit {
		return false
	}
	defer a.queue.Done(key)
	if err := a.syncPod(ctx, types.UID(key)); err != nil {
		klog.FromContext(ctx).V(2).Info("Pod sync failed, will retry", "podUID", key, "err", err)
		a.queue.AddRateLimited(key)
		return true
	}
	a.queue.Forget(key)
	return true
}

// recover rebuilds pod state from the runtime: running runs are adopted,
// exits that happened while the agent was down are recorded, and pods gone
// from the API are queued for cleanup.
func (a *Agent) recover(ctx context.Context) error {
	list, err := a.rt.ListContainers(ctx)
	if err != nil {
		return fmt.Errorf("agent: listing the runtime's containers: %w", err)
	}
	byPod := map[types.UID][]runtime.ContainerStatus{}
	for _, c := range list {
		byPod[c.PodUID] = append(byPod[c.PodUID], c)
	}
	a.mu.Lock()
	for uid, runs := range byPod {
		st := newPodState(uid)
		for _, r := range runs {
			st.record(r)
		}
		st.recovered = true
		a.pods[uid] = st
	}
	a.mu.Unlock()
	for uid := range byPod {
		a.queue.Add(string(uid))
	}
	for _, obj := range a.podInf.GetStore().List() {
		a.onPod(obj)
	}
	klog.FromContext(ctx).V(2).Info("Recovered runtime state", "pods", len(byPod), "containers", len(list))
	return nil
}

func (a *Agent) exitLoop(ctx context.Context) {
	ch := a.rt.Exits()
	for {
		select {
		case <-ctx.Done():
			return
		case ex := <-ch:
			a.mu.Lock()
			st := a.pods[ex.PodUID]
			a.mu.Unlock()
			if st == nil {
				continue
			}
			st.mu.Lock()
			st.record(ex)
			st.stopProbesLocked(ex.ID)
			st.mu.Unlock()
			a.queue.Add(string(ex.PodUID))
		}
	}
}

func (a *Agent) podByUID(uid types.UID) *corev1.Pod {
	objs, err := a.podInf.GetIndexer().ByIndex(uidIndex, string(uid))
	if err != nil || len(objs) == 0 {
		return nil
	}
	return objs[0].(*corev1.Pod)
}

func (a *Agent) podByName(namespace, name string) *corev1.Pod {
	obj, ok, err := a.podInf.GetIndexer().GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return obj.(*corev1.Pod)
}

func (a *Agent) recorder(node string) record.EventRecorder {
	a.servedMu.RLock()
	defer a.servedMu.RUnlock()
	if r, ok := a.rec[node]; ok {
		return r
	}
	return a.rec[a.cfg.NodeNames[0]]
}

func (a *Agent) stopAllProbes() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, st := range a.pods {
		st.mu.Lock()
		for id := range st.probes {
			st.stopProbesLocked(id)
		}
		st.mu.Unlock()
	}
}

func defaultNodeIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, addr := range addrs {
			if ipn, ok := addr.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
