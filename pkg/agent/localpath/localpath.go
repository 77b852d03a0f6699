// Package localpath is the node side of herd's local-path volumes: the
// agent says where its volumes live (Dir, published as the node annotation
// storage.herd.dev/local-path-dir), the runtime creates a volume's
// directory when it first mounts it (the volume is a hostPath of type
// DirectoryOrCreate), and the Cleaner removes the directory of a deleted
// volume of one of its nodes, then the volume's cleanup finalizer. Only
// directories directly under Dir and named like the volume are removed.
// Nodes without disks of their own (the simulated runtime) pass
// RemoveDirs=false: their volumes' finalizers are dropped without touching
// the filesystem.
package localpath

import (
	"context"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	provisioner "github.com/herd-project/herd/pkg/controller/volume/localpath"
	"github.com/herd-project/herd/pkg/volume"
)

// Dir is where a node whose agent keeps its state in dataDir puts its
// local-path volumes.
func Dir(dataDir string) string {
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	return filepath.Join(dataDir, "storage")
}

// Options configure a Cleaner.
type Options struct {
	// Dir holds the volumes (Dir(dataDir)).
	Dir string
	// Nodes are the node names this agent serves.
	Nodes []string
	// RemoveDirs: remove directories (false for simulated nodes).
	RemoveDirs bool
}

// Cleaner removes the directories of deleted local-path volumes.
type Cleaner struct {
	client kubernetes.Interface
	opts   Options
	nodes  sets.Set[string]
	pvs    corelisters.PersistentVolumeLister
	synced cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	start  func(<-chan struct{})
}

// New returns a Cleaner with its own volume informer.
func New(client kubernetes.Interface, opts Options) *Cleaner {
	f := informers.NewSharedInformerFactory(client, 0)
	inf := f.Core().V1().PersistentVolumes()
	c := &Cleaner{
		client: client,
		opts:   opts,
		nodes:  sets.New(opts.Nodes...),
		pvs:    inf.Lister(),
		synced: inf.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "local-path-cleaner"}),
		start: f.Start,
	}
	inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.changed,
		UpdateFunc: func(_, obj interface{}) { c.changed(obj) },
	})
	return c
}

func (c *Cleaner) changed(obj interface{}) {
	if pv, ok := obj.(*corev1.PersistentVolume); ok && c.mine(pv) && pv.DeletionTimestamp != nil {
		c.queue.Add(pv.Name)
	}
}

// mine: a local-path volume of one of this agent's nodes, still holding
// the cleanup finalizer.
func (c *Cleaner) mine(pv *corev1.PersistentVolume) bool {
	if pv.Annotations[volume.AnnDynamicallyProvisioned] != volume.LocalPathProvisioner || !c.nodes.Has(provisioner.NodeOf(pv)) {
		return false
	}
	for _, f := range pv.Finalizers {
		if f == volume.LocalPathCleanupFinalizer {
			return true
		}
	}
	return false
}

// Run cleans until ctx is done.
func (c *Cleaner) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	c.start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return
	}
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for c.processNext(ctx) {
		}
	}, time.Second)
	<-ctx.Done()
}

func (c *Cleaner) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.sync(ctx, key); err != nil {
		if !apierrors.IsConflict(err) {
			utilruntime.HandleErrorWithContext(ctx, err, "Removing local-path volume", "volume", key)
		}
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

func (c *Cleaner) sync(ctx context.Context, name string) error {
	pv, err := c.pvs.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !c.mine(pv) || pv.DeletionTimestamp == nil {
		return nil
	}
	if c.opts.RemoveDirs {
		if err := RemoveDir(c.opts.Dir, pv); err != nil {
			return err
		}
	}
	klog.FromContext(ctx).V(2).Info("Removed local-path volume directory", "volume", pv.Name)
	return provisioner.RemoveCleanupFinalizer(ctx, c.client, pv)
}

// RemoveDir removes the directory of a local-path volume when it is
// exactly dir/<volume name>; any other path is left alone.
func RemoveDir(dir string, pv *corev1.PersistentVolume) error {
	if pv.Spec.HostPath == nil {
		return nil
	}
	want := filepath.Join(dir, pv.Name)
	if filepath.Clean(pv.Spec.HostPath.Path) != want || pv.Name == "" || pv.Name == "." || pv.Name == ".." {
		klog.InfoS("Not removing a local-path volume outside the node's storage directory", "volume", pv.Name, "path", pv.Spec.HostPath.Path, "dir", dir)
		return nil
	}
	return os.RemoveAll(want)
}
