// Package volume starts herd's storage controllers together: the
// PersistentVolume binder, the local-path provisioner and the PVC and PV
// protection controllers, and makes sure the default StorageClass
// `local-path` exists. Each controller lives in its own sub-package.
package volume

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/controller/volume/localpath"
	"github.com/herd-project/herd/pkg/controller/volume/persistentvolume"
	"github.com/herd-project/herd/pkg/controller/volume/pvcprotection"
	"github.com/herd-project/herd/pkg/controller/volume/pvprotection"
	vol "github.com/herd-project/herd/pkg/volume"
)

// Controllers are the storage controllers of one server.
type Controllers struct {
	client      kubernetes.Interface
	binder      *persistentvolume.Controller
	provisioner *localpath.Provisioner
	pvc         *pvcprotection.Controller
	pv          *pvprotection.Controller
}

// New wires the storage controllers to factory; recorder makes the event
// recorder of a component.
//
// clientFor gives each controller the client of its identity, as
// kube-controller-manager's service account credentials: the binder and the
// provisioner act as persistent-volume-binder, the protection controllers as
// pvc-protection-controller and pv-protection-controller. bootstrap (the
// server's own client) creates the default StorageClass.
func New(clientFor func(identity string) kubernetes.Interface, bootstrap kubernetes.Interface, f informers.SharedInformerFactory, recorder func(component string) record.EventRecorder, clk clock.WithTicker) *Controllers {
	binder := clientFor("persistent-volume-binder")
	return &Controllers{
		client:      bootstrap,
		binder:      persistentvolume.New(binder, f, recorder("persistentvolume-controller"), clk),
		provisioner: localpath.New(binder, f, recorder(vol.LocalPathProvisioner)),
		pvc:         pvcprotection.New(clientFor("pvc-protection-controller"), f),
		pv:          pvprotection.New(clientFor("pv-protection-controller"), f),
	}
}

// Run creates the default StorageClass (unless it exists) and runs the
// controllers until ctx is done.
func (c *Controllers) Run(ctx context.Context) {
	go EnsureDefaultClass(ctx, c.client)
	go c.binder.Run(ctx, 2)
	go c.provisioner.Run(ctx, 2)
	go c.pvc.Run(ctx, 2)
	go c.pv.Run(ctx, 1)
	<-ctx.Done()
}

// EnsureDefaultClass creates the local-path StorageClass, retrying until the
// API answers; an existing class of that name is left as it is.
func EnsureDefaultClass(ctx context.Context, client kubernetes.Interface) {
	for {
		_, err := client.StorageV1().StorageClasses().Create(ctx, localpath.DefaultStorageClass(), metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return
		}
		klog.FromContext(ctx).V(2).Info("Creating the default storage class failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}
