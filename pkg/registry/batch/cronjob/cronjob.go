// Package cronjob defines how the API server serves batch/v1 CronJobs:
// validation (schedule, time zone, job template), the /status subresource and
// table columns. The CronJob controller lives in pkg/controller/cronjob.
package cronjob

import (
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/herd-project/herd/pkg/apis/batch"
	"github.com/herd-project/herd/pkg/printers"
	"github.com/herd-project/herd/pkg/registry"
)

// Definition returns the cronjobs resource.
func Definition() *registry.Definition {
	return &registry.Definition{
		GroupVersion:         batchv1.SchemeGroupVersion,
		Resource:             "cronjobs",
		Singular:             "cronjob",
		Kind:                 "CronJob",
		Namespaced:           true,
		ShortNames:           []string{"cj"},
		Categories:           []string{"all"},
		New:                  func() runtime.Object { return &batchv1.CronJob{} },
		NewList:              func() runtime.Object { return &batchv1.CronJobList{} },
		HasStatus:            true,
		HasGeneration:        true,
		Validate:             registry.Validator(batch.ValidateCronJob),
		ValidateUpdate:       registry.UpdateValidator(batch.ValidateCronJobUpdate),
		ValidateStatusUpdate: registry.UpdateValidator(batch.ValidateCronJobStatusUpdate),
		Table:                printers.For(schema.GroupResource{Group: "batch", Resource: "cronjobs"}),
	}
}
