// Package configmap defines how the API server serves core/v1 ConfigMaps: validation (keys, size, immutability) and table columns.
package configmap

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the configmaps resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:   corev1.SchemeGroupVersion,
		Resource:       "configmaps",
		Singular:       "configmap",
		Kind:           "ConfigMap",
		Namespaced:     true,
		ShortNames:     []string{"cm"},
		New:            func() runtime.Object { return &corev1.ConfigMap{} },
		NewList:        func() runtime.Object { return &corev1.ConfigMapList{} },
		Validate:       registry.Validator(core.ValidateConfigMap),
		ValidateUpdate: registry.UpdateValidator(core.ValidateConfigMapUpdate),
		Table:          printers.For(schema.GroupResource{Group: corev1.GroupName, Resource: "configmaps"}),
	}
}
