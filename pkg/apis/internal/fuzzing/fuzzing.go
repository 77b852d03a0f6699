// Package fuzzing holds what the fuzz tests of herd's API validation share:
// building an object of a herd type from fuzz input (as a JSON merge patch
// or a strategic merge patch on a valid object, or filled at random from
// the input bytes), and the check that validation is deterministic. It is
// imported by tests only.
package fuzzing

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/randfill"
)

// Random is the first byte of an input that asks for a randomly filled
// object; any other input is a patch.
const Random = 'R'

// Object builds *out from the fuzz input: after the byte Random, the rest
// of data fills out at random (deterministically); otherwise data is
// applied to base, as a strategic merge patch when strategic is set (the
// patch type kubectl uses for built-in types) or as a JSON merge patch.
// It reports false for input that is no object (a patch the API server
// would refuse with 400/422 before validation).
func Object(base interface{}, data []byte, strategic bool, out interface{}) bool {
	if len(data) > 0 && data[0] == Random {
		randfill.NewFromGoFuzz(data[1:]).NilChance(0.3).NumElements(0, 3).MaxDepth(12).Funcs(wireTypes...).Fill(out)
		// Keep to what the wire can carry, as the server only sees JSON.
		b, err := json.Marshal(out)
		if err != nil {
			return false
		}
		reflect.ValueOf(out).Elem().SetZero()
		return json.Unmarshal(b, out) == nil
	}
	orig, err := json.Marshal(base)
	if err != nil {
		panic(fmt.Sprintf("marshalling the base object: %v", err))
	}
	var patched []byte
	if strategic {
		patched, err = strategicMergePatch(orig, data, reflect.ValueOf(out).Elem().Interface())
	} else {
		patched, err = jsonpatch.MergePatch(orig, data)
	}
	if err != nil {
		return false
	}
	return json.Unmarshal(patched, out) == nil
}

// strategicMergePatch is apimachinery's, with its panics turned into
// errors: apimachinery v0.36 panics on some patches (a merge key whose value
// is an object: {"spec":{"volumes":[{"name":{}}]}}, found by
// FuzzStrategicMergePatchPod), which the API server's panic recovery turns
// into a 500, in Kubernetes as in herd; the patch never reaches validation.
func strategicMergePatch(orig, patch []byte, dataStruct interface{}) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("strategic merge patch panicked: %v", r)
		}
	}()
	return strategicpatch.StrategicMergePatch(orig, patch, dataStruct)
}

// wireTypes fill the types whose internal state JSON cannot produce at
// random from their wire form instead.
var wireTypes = []interface{}{
	func(q *resource.Quantity, c randfill.Continue) {
		*q = *resource.NewQuantity(c.Int63n(1<<40)-(1<<20), resource.Format([]string{"DecimalSI", "BinarySI", "DecimalExponent"}[c.Intn(3)]))
	},
	func(t *metav1.Time, c randfill.Continue) { *t = metav1.Unix(c.Int63n(1<<33), 0) },
	func(t *metav1.MicroTime, c randfill.Continue) {
		*t = metav1.NewMicroTime(time.Unix(c.Int63n(1<<33), 0))
	},
	func(x *intstr.IntOrString, c randfill.Continue) {
		if c.Bool() {
			*x = intstr.FromInt32(c.Int31() - 1<<20)
		} else {
			*x = intstr.FromString(c.String(8))
		}
	},
	func(r *runtime.RawExtension, c randfill.Continue) { *r = runtime.RawExtension{} },
}

// Deterministic runs validate twice and panics if the two error lists
// differ (by type, field path and message): the API server must give the
// same answer for the same object. The order may differ: like Kubernetes,
// validation reports the entries of a map (labels, annotations, resource
// lists) in map order.
func Deterministic(validate func() field.ErrorList) field.ErrorList {
	first, second := validate(), validate()
	if a, b := describe(first), describe(second); !reflect.DeepEqual(a, b) {
		panic(fmt.Sprintf("validation is not deterministic:\nfirst:  %q\nsecond: %q", a, b))
	}
	return first
}

func describe(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	sort.Strings(out)
	return out
}

// Validate is the body of a validation fuzz target: seeds are added to f,
// then for every input an object is built from base (see Object), defaulted
// as the API server would, and each check (a validation function of the
// object) must not panic and must be deterministic.
func Validate[T any](f *testing.F, seeds []string, base *T, strategic bool, setDefaults func(*T), checks ...func(*T) field.ErrorList) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj := new(T)
		if !Object(base, data, strategic, obj) {
			return
		}
		setDefaults(obj)
		for _, check := range checks {
			Deterministic(func() field.ErrorList { return check(obj) })
		}
	})
}
