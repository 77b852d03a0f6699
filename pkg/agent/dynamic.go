package agent

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// SimulatedNodeAnnotation on a Node a user creates (value "true") asks an
// agent with Config.ServeAnnotatedNodes to serve it: it takes over the
// node's status and heartbeat and runs the pods bound to it, as kwok does.
const SimulatedNodeAnnotation = "simulate.herd.dev/node"

// watchAnnotatedNodes adopts annotated nodes as they appear and drops
// adopted nodes when they are deleted.
func (a *Agent) watchAnnotatedNodes(ctx context.Context) {
	f := informers.NewSharedInformerFactory(a.client, 0)
	a.nodeInf = f.Core().V1().Nodes().Informer()
	_, _ = a.nodeInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { a.onAnnotatedNode(ctx, obj) },
		UpdateFunc: func(_, obj interface{}) { a.onAnnotatedNode(ctx, obj) },
		DeleteFunc: a.onAnnotatedNodeDelete,
	})
	f.Start(ctx.Done())
}

func (a *Agent) isAdopted(name string) bool {
	a.servedMu.RLock()
	defer a.servedMu.RUnlock()
	for _, n := range a.adopted {
		if n == name {
			return true
		}
	}
	return false
}

func (a *Agent) onAnnotatedNode(ctx context.Context, obj interface{}) {
	node, ok := obj.(*corev1.Node)
	if !ok || node.Annotations[SimulatedNodeAnnotation] != "true" || node.DeletionTimestamp != nil {
		return
	}
	a.servedMu.Lock()
	if a.nodes[node.Name] {
		a.servedMu.Unlock()
		return
	}
	a.nodes[node.Name] = true
	a.adopted = append(a.adopted, node.Name)
	if a.cfg.Recorder != nil {
		a.rec[node.Name] = a.cfg.Recorder
	} else {
		a.rec[node.Name] = a.bcast.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: node.Name})
	}
	a.servedMu.Unlock()
	klog.FromContext(ctx).V(2).Info("Serving annotated node", "node", node.Name)
	go a.adoptNode(ctx, node.Name)
}

// adoptNode registers the node (labels, status), starts its lease and
// queues the pods already bound to it.
func (a *Agent) adoptNode(ctx context.Context, name string) {
	backoff := 100 * time.Millisecond
	for a.isAdopted(name) {
		err := a.registerNode(ctx, name)
		if err == nil {
			break
		}
		klog.FromContext(ctx).V(2).Info("Unable to register annotated node", "node", name, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-a.clk.After(backoff):
		}
		backoff = min(2*backoff, 7*time.Second)
	}
	if err := a.renewLease(ctx, name); err != nil {
		klog.FromContext(ctx).V(2).Info("Unable to renew node lease", "node", name, "err", err)
	}
	a.queueNodePods(name)
}

func (a *Agent) queueNodePods(name string) {
	for _, obj := range a.podInf.GetStore().List() {
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName == name {
			a.queue.Add(string(p.UID))
		}
	}
}

func (a *Agent) onAnnotatedNodeDelete(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	node, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	a.servedMu.Lock()
	found := false
	for i, n := range a.adopted {
		if n == node.Name {
			a.adopted = append(a.adopted[:i:i], a.adopted[i+1:]...)
			found = true
			break
		}
	}
	if found {
		delete(a.nodes, node.Name)
		delete(a.rec, node.Name)
	}
	a.servedMu.Unlock()
	if !found {
		return
	}
	a.nodeMu.Lock()
	delete(a.nodeSt, node.Name)
	a.nodeMu.Unlock()
	// Its pods are no longer this agent's: stop their containers.
	a.queueNodePods(node.Name)
}
