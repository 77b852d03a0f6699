// Package job defines how the API server serves batch/v1 Jobs: the generated
// selector and labels, validation, the /status subresource, field selectors,
// table columns and the batch/v1 default of orphaning pods on delete. The Job
// controller lives in pkg/controller/job.
package job

import (
	"context"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/herd-project/herd/pkg/apis/batch"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the jobs resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:         batchv1.SchemeGroupVersion,
		Resource:             "jobs",
		Singular:             "job",
		Kind:                 "Job",
		Namespaced:           true,
		Categories:           []string{"all"},
		New:                  func() runtime.Object { return &batchv1.Job{} },
		NewList:              func() runtime.Object { return &batchv1.JobList{} },
		HasStatus:            true,
		HasGeneration:        true,
		PrepareForCreate:     registry.Preparer(batch.GenerateJobSelector),
		Validate:             registry.Validator(batch.ValidateJob),
		ValidateUpdate:       registry.UpdateValidator(batch.ValidateJobUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(batch.ValidateJobStatusUpdate),
		SelectableFields: func(obj runtime.Object) fields.Set {
			return fields.Set{"status.successful": strconv.Itoa(int(obj.(*batchv1.Job).Status.Succeeded))}
		},
		FieldLabels:     []string{"status.successful"},
		DefaultGCPolicy: defaultGCPolicy,
		Table:           printers.For(schema.GroupResource{Group: "batch", Resource: "jobs"}),
	}
}

// defaultGCPolicy keeps Kubernetes' batch/v1 behaviour: a delete request
// that names no propagation policy orphans the Job's pods (kubectl always
// sends one, Background by default).
func defaultGCPolicy(ctx context.Context) rest.GarbageCollectionPolicy {
	if info, ok := genericapirequest.RequestInfoFrom(ctx); ok &&
		info.APIGroup == batchv1.GroupName && info.APIVersion == "v1" {
		return rest.OrphanDependents
	}
	return rest.DeleteDependents
}
