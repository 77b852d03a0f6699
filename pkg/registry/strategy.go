package registry

import (
	"context"
	"reflect"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// strategy is the create/update/delete strategy shared by every resource;
// status selects the /status variant.
type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	def    *Definition
	status bool
}

func newStrategy(typer runtime.ObjectTyper, def *Definition, status bool) *strategy {
	return &strategy{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator, def: def, status: status}
}

func (s *strategy) NamespaceScoped() bool { return s.def.Namespaced }

func (s *strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	if s.def.HasStatus {
		zeroField(obj, "Status")
	}
	if s.def.HasGeneration {
		if m, err := meta.Accessor(obj); err == nil {
			m.SetGeneration(1)
		}
	}
	if s.def.PrepareForCreate != nil {
		s.def.PrepareForCreate(ctx, obj)
	}
}

func (s *strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	if s.status {
		// /status changes status (and metadata) only.
		copyField(obj, old, "Spec")
		if s.def.HasGeneration {
			setGeneration(obj, old, false)
		}
		if s.def.PrepareForStatusUpdate != nil {
			s.def.PrepareForStatusUpdate(ctx, obj, old)
		}
		return
	}
	if s.def.HasStatus {
		copyField(obj, old, "Status")
	}
	if s.def.HasGeneration {
		setGeneration(obj, old, !apiequality.Semantic.DeepEqual(fieldOf(obj, "Spec"), fieldOf(old, "Spec")))
	}
	if s.def.PrepareForUpdate != nil {
		s.def.PrepareForUpdate(ctx, obj, old)
	}
}

func setGeneration(obj, old runtime.Object, bump bool) {
	m, err1 := meta.Accessor(obj)
	o, err2 := meta.Accessor(old)
	if err1 != nil || err2 != nil {
		return
	}
	g := o.GetGeneration()
	if bump {
		g++
	}
	m.SetGeneration(g)
}

func (s *strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	if s.def.Validate == nil {
		return nil
	}
	return s.def.Validate(ctx, obj)
}

func (s *strategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	if s.def.Warnings == nil {
		return nil
	}
	return s.def.Warnings(ctx, obj)
}

func (s *strategy) Canonicalize(obj runtime.Object) {}

func (s *strategy) AllowCreateOnUpdate() bool { return s.def.AllowCreateOnUpdate && !s.status }

func (s *strategy) AllowUnconditionalUpdate() bool { return true }

func (s *strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	if s.status {
		if s.def.ValidateStatusUpdate == nil {
			return nil
		}
		return s.def.ValidateStatusUpdate(ctx, obj, old)
	}
	if s.def.ValidateUpdate == nil {
		return nil
	}
	return s.def.ValidateUpdate(ctx, obj, old)
}

func (s *strategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	if s.def.Warnings == nil || s.status {
		return nil
	}
	return s.def.Warnings(ctx, obj)
}

// GetResetFields tells server-side apply which fields this endpoint ignores.
func (s *strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	if !s.def.HasStatus {
		return nil
	}
	var set *fieldpath.Set
	if s.status {
		set = fieldpath.NewSet(fieldpath.MakePathOrDie("spec"))
	} else {
		set = fieldpath.NewSet(fieldpath.MakePathOrDie("status"))
	}
	return map[fieldpath.APIVersion]*fieldpath.Set{fieldpath.APIVersion(s.def.GroupVersion.String()): set}
}

func fieldOf(obj runtime.Object, name string) interface{} {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() {
		return nil
	}
	return f.Interface()
}

func zeroField(obj runtime.Object, name string) {
	f := reflect.ValueOf(obj).Elem().FieldByName(name)
	if f.IsValid() && f.CanSet() {
		f.Set(reflect.Zero(f.Type()))
	}
}

func copyField(dst, src runtime.Object, name string) {
	d := reflect.ValueOf(dst).Elem().FieldByName(name)
	s := reflect.ValueOf(src).Elem().FieldByName(name)
	if d.IsValid() && s.IsValid() && d.CanSet() {
		d.Set(s)
	}
}

// DefaultGarbageCollectionPolicy implements rest.GarbageCollectionDeleteStrategy.
func (s *strategy) DefaultGarbageCollectionPolicy(ctx context.Context) rest.GarbageCollectionPolicy {
	if s.def.DefaultGCPolicy != nil {
		return s.def.DefaultGCPolicy(ctx)
	}
	return rest.DeleteDependents
}

// CheckGracefulDelete implements rest.RESTGracefulDeleteStrategy.
func (s *strategy) CheckGracefulDelete(ctx context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool {
	if s.def.CheckGracefulDelete == nil {
		return false
	}
	return s.def.CheckGracefulDelete(ctx, obj, options)
}
