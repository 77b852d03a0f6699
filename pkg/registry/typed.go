package registry

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validator adapts a typed create validation function.
func Validator[T runtime.Object](f func(T) field.ErrorList) func(context.Context, runtime.Object) field.ErrorList {
	return func(_ context.Context, obj runtime.Object) field.ErrorList { return f(obj.(T)) }
}

// UpdateValidator adapts a typed update validation function.
func UpdateValidator[T runtime.Object](f func(T, T) field.ErrorList) func(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return func(_ context.Context, obj, old runtime.Object) field.ErrorList { return f(obj.(T), old.(T)) }
}

// Preparer adapts a typed create preparation function.
func Preparer[T runtime.Object](f func(T)) func(context.Context, runtime.Object) {
	return func(_ context.Context, obj runtime.Object) { f(obj.(T)) }
}

// UpdatePreparer adapts a typed update preparation function.
func UpdatePreparer[T runtime.Object](f func(T, T)) func(context.Context, runtime.Object, runtime.Object) {
	return func(_ context.Context, obj, old runtime.Object) { f(obj.(T), old.(T)) }
}
