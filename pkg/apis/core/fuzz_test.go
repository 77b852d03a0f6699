package core

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/herd-project/herd/pkg/apis/internal/fuzzing"
)

// podSeeds are patches on validPod() (and random fills) that reach the
// pod validation's branches; go test runs them as ordinary cases.
var podSeeds = []string{
	`{}`,
	`{"metadata":{"name":"UPPER","labels":{"a/b/c":"x"}}}`,
	`{"spec":{"containers":[{"name":"a","image":"i","ports":[{"containerPort":0,"hostPort":70000,"protocol":"XTP"}]}]}}`,
	`{"spec":{"containers":[{"name":"a","image":"i","env":[{"name":"","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['x']"}}}]}]}}`,
	`{"spec":{"containers":[{"name":"a","image":"i","resources":{"requests":{"cpu":"2"},"limits":{"cpu":"1"}}}]}}`,
	`{"spec":{"volumes":[{"name":"v","hostPath":{"path":"../x","type":"Nope"}},{"name":"v","configMap":{"name":"c","items":[{"key":"k","path":"/abs"}]}}]}}`,
	`{"spec":{"initContainers":[{"name":"s","image":"i","restartPolicy":"Always","startupProbe":{"exec":{"command":["x"]}}}]}}`,
	`{"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"k","operator":"Gt","values":["a"]}]}]}}}}}`,
	`{"spec":{"tolerations":[{"key":"k","operator":"Exists","value":"v","effect":"Bad"}],"topologySpreadConstraints":[{"maxSkew":0,"topologyKey":"","whenUnsatisfiable":"X"}]}}`,
	`{"spec":{"securityContext":{"sysctls":[{"name":"bad name","value":"1"}],"seccompProfile":{"type":"Localhost"}},"dnsPolicy":"None","dnsConfig":{"nameservers":["x"],"options":[{"name":""}]}}}`,
	`{"spec":{"containers":null}}`,
	`{"spec":{"containers":[{"name":"a","image":"i","lifecycle":{"preStop":{"sleep":{"seconds":-1}}},"readinessProbe":{"httpGet":{"port":"toolongportname1"}}}]}}`,
	"R\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
	"R\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0\x10\x20\x30\x40\x50\x60\x70\x80\x90",
}

// FuzzValidatePod: pod validation never panics and gives the same answer
// twice, for creations and updates, whatever the pod.
func FuzzValidatePod(f *testing.F) {
	for _, s := range podSeeds {
		f.Add([]byte(s))
	}
	base := validPod()
	f.Fuzz(func(t *testing.T, data []byte) {
		var pod corev1.Pod
		if !fuzzing.Object(base, data, false, &pod) {
			return
		}
		SetDefaultsPod(&pod)
		fuzzing.Deterministic(func() field.ErrorList { return ValidatePod(&pod) })
		fuzzing.Deterministic(func() field.ErrorList { return ValidatePodUpdate(&pod, base) })
		fuzzing.Deterministic(func() field.ErrorList { return ValidatePodStatusUpdate(&pod, base) })
	})
}

// FuzzStrategicMergePatchPod applies the input as a strategic merge patch
// (kubectl's patch type for built-in types) to a valid pod, then validates
// the result: neither may panic.
func FuzzStrategicMergePatchPod(f *testing.F) {
	for _, s := range podSeeds {
		if s[0] != fuzzing.Random {
			f.Add([]byte(s))
		}
	}
	f.Add([]byte(`{"spec":{"containers":[{"name":"web","$patch":"delete"}]}}`))
	f.Add([]byte(`{"spec":{"$setElementOrder/containers":[{"name":"x"}],"containers":[{"name":"x","image":"i"}]}}`))
	f.Add([]byte(`{"metadata":{"labels":{"$patch":"replace","a":"b"}},"spec":{"volumes":[{"$retainKeys":["name"],"name":"data"}]}}`))
	f.Add([]byte(`{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"$patch":"delete"}],"env":[{"name":"MODE","value":null}]}]}}`))
	base := validPod()
	f.Fuzz(func(t *testing.T, data []byte) {
		var pod corev1.Pod
		if !fuzzing.Object(base, data, true, &pod) {
			return
		}
		SetDefaultsPod(&pod)
		fuzzing.Deterministic(func() field.ErrorList { return ValidatePodUpdate(&pod, base) })
	})
}
