// Package storageclass defines how the API server serves storage.k8s.io/v1
// StorageClasses: defaulting, validation (parameters, provisioner, reclaim
// policy and binding mode are immutable) and the `kubectl get sc` columns.
package storageclass

import (
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/storage"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the storageclasses resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:     storagev1.SchemeGroupVersion,
		Resource:         "storageclasses",
		Singular:         "storageclass",
		Kind:             "StorageClass",
		Namespaced:       false,
		ShortNames:       []string{"sc"},
		New:              func() runtime.Object { return &storagev1.StorageClass{} },
		NewList:          func() runtime.Object { return &storagev1.StorageClassList{} },
		PrepareForCreate: registry.Preparer(storage.SetDefaultsStorageClass),
		PrepareForUpdate: registry.UpdatePreparer(func(sc, _ *storagev1.StorageClass) { storage.SetDefaultsStorageClass(sc) }),
		Validate:         registry.Validator(storage.ValidateStorageClass),
		ValidateUpdate:   registry.UpdateValidator(storage.ValidateStorageClassUpdate),
		Table:            printers.For(schema.GroupResource{Group: storagev1.GroupName, Resource: "storageclasses"}),
	}
}
