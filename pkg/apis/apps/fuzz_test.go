package apps

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/herd-project/herd/pkg/apis/internal/fuzzing"
)

// FuzzValidateDeployment: Deployment validation never panics and gives
// the same answer twice, whatever the Deployment (a JSON merge patch on a
// valid one, or filled at random).
func FuzzValidateDeployment(f *testing.F) {
	fuzzing.Validate(f, []string{
		`{}`,
		`{"spec":{"replicas":-1,"selector":{"matchLabels":{"app":"other"}}}}`,
		`{"spec":{"selector":{"matchExpressions":[{"key":"app","operator":"In","values":[]}]}}}`,
		`{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"0%","maxUnavailable":0}}}}`,
		`{"spec":{"strategy":{"type":"Recreate","rollingUpdate":{"maxSurge":"150%","maxUnavailable":"x%"}}}}`,
		`{"spec":{"revisionHistoryLimit":-3,"progressDeadlineSeconds":1,"minReadySeconds":5}}`,
		`{"spec":{"template":{"metadata":{"labels":null},"spec":{"restartPolicy":"Never"}}}}`,
		`{"spec":{"selector":null,"template":{"spec":{"containers":[]}}}}`,
		"R\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
		"R\xff\xee\xdd\xcc\xbb\xaa\x99\x88\x77\x66\x55\x44\x33\x22\x11\x00\x01\x02",
	}, validDeployment(), false, SetDefaultsDeployment,
		ValidateDeployment,
		func(d *appsv1.Deployment) field.ErrorList { return ValidateDeploymentUpdate(d, validDeployment()) })
}
