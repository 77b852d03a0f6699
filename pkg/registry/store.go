package registry

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Store is the generic registry store herd uses for every resource.
type Store = genericregistry.Store

// REST is the main storage of a resource: the generic store plus the
// discovery details (short names, categories) kubectl relies on.
type REST struct {
	*Store
	def *Definition
}

var (
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.CategoriesProvider   = &REST{}
	_ rest.StandardStorage      = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

// ShortNames implements rest.ShortNamesProvider.
func (r *REST) ShortNames() []string { return r.def.ShortNames }

// Categories implements rest.CategoriesProvider.
func (r *REST) Categories() []string { return r.def.Categories }

// Definition returns what the store was built from.
func (r *REST) Definition() *Definition { return r.def }

// GetAttrs returns the labels and selectable fields of obj for def.
func (d *Definition) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	fs := fields.Set{"metadata.name": m.GetName()}
	if d.Namespaced {
		fs["metadata.namespace"] = m.GetNamespace()
	}
	if d.SelectableFields != nil {
		for k, v := range d.SelectableFields(obj) {
			fs[k] = v
		}
	}
	return labels.Set(m.GetLabels()), fs, nil
}

// Build creates the storage for def and its subresources, keyed the way
// APIGroupInfo.VersionedResourcesStorageMap expects ("jobs", "jobs/status").
func Build(def *Definition, typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	gr := def.GroupResource()
	singular := def.Singular
	if singular == "" {
		return nil, fmt.Errorf("%s: singular name missing", gr)
	}
	main := newStrategy(typer, def, false)
	table := def.Table
	if table == nil {
		table = rest.NewDefaultTableConvertor(gr)
	}
	store := &Store{
		NewFunc:                   def.New,
		NewListFunc:               def.NewList,
		DefaultQualifiedResource:  gr,
		SingularQualifiedResource: schema.GroupResource{Group: gr.Group, Resource: singular},
		PredicateFunc: func(l labels.Selector, f fields.Selector) storage.SelectionPredicate {
			return storage.SelectionPredicate{Label: l, Field: f, GetAttrs: def.GetAttrs, IndexFields: def.IndexFields}
		},
		CreateStrategy:      main,
		UpdateStrategy:      main,
		DeleteStrategy:      main,
		ResetFieldsStrategy: main,
		TableConvertor:      table,
	}
	if def.ShouldDeleteDuringUpdate != nil {
		store.ShouldDeleteDuringUpdate = def.ShouldDeleteDuringUpdate
	}
	if def.TTLSeconds != nil {
		store.TTLFunc = func(obj runtime.Object, existing uint64, update bool) (uint64, error) {
			return def.TTLSeconds(obj), nil
		}
	}
	opts := &generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: def.GetAttrs}
	if len(def.IndexFields) > 0 {
		triggers := storage.IndexerFuncs{}
		indexers := cache.Indexers{}
		for _, name := range def.IndexFields {
			name := name
			value := func(obj runtime.Object) string {
				_, fs, err := def.GetAttrs(obj)
				if err != nil {
					return ""
				}
				return fs[name]
			}
			triggers[name] = value
			indexers[storage.FieldIndex(name)] = func(obj interface{}) ([]string, error) {
				o, ok := obj.(runtime.Object)
				if !ok {
					return nil, fmt.Errorf("not a runtime.Object: %T", obj)
				}
				return []string{value(o)}, nil
			}
		}
		opts.TriggerFunc = triggers
		opts.Indexers = &indexers
	}
	if err := store.CompleteWithOptions(opts); err != nil {
		return nil, fmt.Errorf("%s: %w", gr, err)
	}

	out := map[string]rest.Storage{}
	if def.WrapMain != nil {
		out[def.Resource] = def.WrapMain(store)
	} else {
		out[def.Resource] = &REST{Store: store, def: def}
	}
	if def.HasStatus {
		statusStore := *store
		st := newStrategy(typer, def, true)
		statusStore.UpdateStrategy = st
		statusStore.ResetFieldsStrategy = st
		out[def.Resource+"/status"] = &StatusREST{store: &statusStore}
	}
	if def.Scale != nil {
		out[def.Resource+"/scale"] = &ScaleREST{store: store, def: def}
	}
	for name, mk := range def.ExtraStorage {
		out[def.Resource+"/"+name] = mk(store)
	}
	return out, nil
}

// StatusREST serves the /status subresource.
type StatusREST struct {
	store *Store
}

var _ = rest.Patcher(&StatusREST{})

// New implements rest.Storage.
func (r *StatusREST) New() runtime.Object { return r.store.New() }

// Destroy implements rest.Storage; the main store owns the backend.
func (r *StatusREST) Destroy() {}

// Get returns the whole object.
func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update changes the status only; it never creates.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields implements rest.ResetFieldsStrategy.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// ConvertToTable implements rest.TableConvertor.
func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}
