// Package secret defines how the API server serves core/v1 Secrets: validation (keys, size, type, immutability), the type field selector and table columns.
package secret

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the secrets resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:   corev1.SchemeGroupVersion,
		Resource:       "secrets",
		Singular:       "secret",
		Kind:           "Secret",
		Namespaced:     true,
		ShortNames:     nil,
		New:            func() runtime.Object { return &corev1.Secret{} },
		NewList:        func() runtime.Object { return &corev1.SecretList{} },
		Validate:       registry.Validator(core.ValidateSecret),
		ValidateUpdate: registry.UpdateValidator(core.ValidateSecretUpdate),
		SelectableFields: func(obj runtime.Object) fields.Set {
			return fields.Set{"type": string(obj.(*corev1.Secret).Type)}
		},
		FieldLabels: []string{"type"},
		Table:       printers.For(schema.GroupResource{Group: corev1.GroupName, Resource: "secrets"}),
	}
}
