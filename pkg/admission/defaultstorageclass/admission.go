// Package defaultstorageclass is Kubernetes' DefaultStorageClass admission
// plugin for herd: a PersistentVolumeClaim created without
// spec.storageClassName (and without the beta class annotation) gets the
// name of the default StorageClass, the one annotated
// storageclass.kubernetes.io/is-default-class=true (the newest when several
// are). A claim asking for "" explicitly keeps it: it wants no class.
package defaultstorageclass

import (
	"context"
	"fmt"
	"io"
	"sort"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/klog/v2"

	"github.com/herd-project/herd/pkg/apis/storage"
)

// PluginName is the name Kubernetes gives the plugin.
const PluginName = "DefaultStorageClass"

// Plugin sets the default class on new claims.
type Plugin struct {
	*admission.Handler
	lister storagelisters.StorageClassLister
}

var _ admission.MutationInterface = &Plugin{}

// New returns the plugin reading classes from the factory's informer (the
// factory must be started by the caller).
func New(f informers.SharedInformerFactory) *Plugin {
	inf := f.Storage().V1().StorageClasses()
	p := &Plugin{Handler: admission.NewHandler(admission.Create), lister: inf.Lister()}
	p.SetReadyFunc(inf.Informer().HasSynced)
	return p
}

// Register adds the plugin to a plugin registry (unused by herd's fixed
// chain, there for completeness).
func Register(plugins *admission.Plugins, f informers.SharedInformerFactory) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(f), nil })
}

// Admit sets spec.storageClassName of a new claim that names no class.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != corev1.Resource("persistentvolumeclaims") || a.GetSubresource() != "" {
		return nil
	}
	pvc, ok := a.GetObject().(*corev1.PersistentVolumeClaim)
	if !ok {
		return nil
	}
	if pvc.Spec.StorageClassName != nil {
		return nil
	}
	if _, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return nil
	}
	if !p.WaitForReady() {
		return admission.NewForbidden(a, fmt.Errorf("not yet ready to handle request"))
	}
	def, err := DefaultClass(p.lister)
	if err != nil {
		return admission.NewForbidden(a, err)
	}
	if def == nil {
		return nil
	}
	klog.V(4).InfoS("defaulting storage class for claim", "claim", klog.KObj(pvc), "class", def.Name)
	name := def.Name
	pvc.Spec.StorageClassName = &name
	return nil
}

// DefaultClass returns the default StorageClass: of the classes annotated as
// default, the newest (by creation time, then name); nil when there is none.
func DefaultClass(lister storagelisters.StorageClassLister) (*storagev1.StorageClass, error) {
	list, err := lister.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var defaults []*storagev1.StorageClass
	for _, sc := range list {
		if storage.IsDefaultClass(sc) {
			defaults = append(defaults, sc)
		}
	}
	if len(defaults) == 0 {
		return nil, nil
	}
	sort.Slice(defaults, func(i, j int) bool {
		ti, tj := defaults[i].CreationTimestamp, defaults[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return tj.Before(&ti)
		}
		return defaults[i].Name < defaults[j].Name
	})
	return defaults[0], nil
}
