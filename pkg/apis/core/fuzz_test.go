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
	fuzzing.Validate(f, podSeeds, validPod(), false, SetDefaultsPod,
		ValidatePod,
		func(p *corev1.Pod) field.ErrorList { return ValidatePodUpdate(p, validPod()) },
		func(p *corev1.Pod) field.ErrorList { return ValidatePodStatusUpdate(p, validPod()) })
}

// FuzzStrategicMergePatchPod applies the input as a strategic merge patch
// (kubectl's patch type for built-in types) to a valid pod, then validates
// the result: neither may panic.
func FuzzStrategicMergePatchPod(f *testing.F) {
	var seeds []string
	for _, s := range podSeeds {
		if s[0] != fuzzing.Random {
			seeds = append(seeds, s)
		}
	}
	seeds = append(seeds, `{"spec":{"containers":[{"name":"web","$patch":"delete"}]}}`)
	seeds = append(seeds, `{"spec":{"$setElementOrder/containers":[{"name":"x"}],"containers":[{"name":"x","image":"i"}]}}`)
	seeds = append(seeds, `{"metadata":{"labels":{"$patch":"replace","a":"b"}},"spec":{"volumes":[{"$retainKeys":["name"],"name":"data"}]}}`)
	seeds = append(seeds, `{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"$patch":"delete"}],"env":[{"name":"MODE","value":null}]}]}}`)
	fuzzing.Validate(f, seeds, validPod(), true, SetDefaultsPod,
		func(p *corev1.Pod) field.ErrorList { return ValidatePodUpdate(p, validPod()) })
}
