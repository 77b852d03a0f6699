// Package history keeps the ControllerRevisions of a workload controller
// (StatefulSet, DaemonSet): it names and hashes revisions, decides whether two
// revisions mean the same thing, numbers and sorts them, lists the revisions
// an owner controls (adopting orphans that match its selector and releasing
// owned ones that stopped matching), creates them with hash-collision
// handling and truncates history to revisionHistoryLimit. It knows nothing of
// what a revision's data holds: callers build the data and may pass a decoder
// to compare it by meaning. It runs no controller loop.
package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
)

const (
	// HashLabel carries a revision's hash on the ControllerRevision itself.
	HashLabel = "controller.kubernetes.io/hash"
	// ControllerRevisionHashLabel is the label workload pods carry to say
	// which revision they were made from (StatefulSet: the revision's name;
	// DaemonSet: its hash).
	ControllerRevisionHashLabel = appsv1.ControllerRevisionHashLabelKey

	// maxPrefix keeps "<prefix>-<hash>" within a 253 character name.
	maxPrefix = 223
)

// Hash is the FNV-32a hash of a revision's data, followed by the decimal
// collisionCount when it is not nil, encoded with rand.SafeEncodeString (no
// vowels, so no words) as Kubernetes encodes it.
func Hash(rev *appsv1.ControllerRevision, collisionCount *int32) string {
	h := fnv.New32a()
	if len(rev.Data.Raw) > 0 {
		h.Write(rev.Data.Raw)
	}
	if rev.Data.Object != nil {
		// An object not yet serialized is hashed in its JSON form.
		if b, err := json.Marshal(rev.Data.Object); err == nil {
			h.Write(b)
		}
	}
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// Name is "<prefix>-<hash>", the prefix cut to 223 bytes.
func Name(prefix, hash string) string {
	if len(prefix) > maxPrefix {
		prefix = prefix[:maxPrefix]
	}
	return prefix + "-" + hash
}

// New builds (does not create) a revision of parent: the template's labels
// plus HashLabel, a controller reference to parent, data and the revision
// number; its name is Name(parent's name, Hash(data, collisionCount)).
func New(parent metav1.Object, parentKind schema.GroupVersionKind, templateLabels map[string]string,
	data runtime.RawExtension, revision int64, collisionCount *int32) *appsv1.ControllerRevision {
	labels := make(map[string]string, len(templateLabels)+1)
	for k, v := range templateLabels {
		labels[k] = v
	}
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       parent.GetNamespace(),
			Labels:          labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(parent, parentKind)},
		},
		Data:     data,
		Revision: revision,
	}
	hash := Hash(cr, collisionCount)
	cr.Name = Name(parent.GetName(), hash)
	cr.Labels[HashLabel] = hash
	return cr
}

// Sort orders revisions by revision number, then creation time, then name.
func Sort(revs []*appsv1.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool { return less(revs[i], revs[j]) })
}

func less(a, b *appsv1.ControllerRevision) bool {
	if a.Revision != b.Revision {
		return a.Revision < b.Revision
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// NextRevision is one more than the highest revision number (1 for none).
func NextRevision(revs []*appsv1.ControllerRevision) int64 {
	var max int64
	for _, r := range revs {
		if r.Revision > max {
			max = r.Revision
		}
	}
	return max + 1
}

// Decoder turns a revision's raw data into a value that
// k8s.io/apimachinery's semantic equality can compare, typically a typed
// struct shaped like the patch the controller stores.
type Decoder func(raw []byte) (any, error)

// Equal says whether two revisions hold the same data by meaning: equal
// bytes are equal; otherwise both are decoded (with decode, or into generic
// JSON values without null members when decode is nil) and compared. Data
// written by another serializer — fields reordered, a null or an empty
// default added or dropped — thus still matches (kubernetes#134773). Hashes
// are not compared: the same data may carry a hash made with a different
// collisionCount. Nil equals only nil.
func Equal(lhs, rhs *appsv1.ControllerRevision, decode Decoder) bool {
	if lhs == nil || rhs == nil {
		return lhs == rhs
	}
	lraw, err1 := rawData(lhs)
	rraw, err2 := rawData(rhs)
	if err1 != nil || err2 != nil {
		return false
	}
	if bytes.Equal(lraw, rraw) {
		return true
	}
	if decode == nil {
		decode = decodeGeneric
	}
	l, err := decode(lraw)
	if err != nil {
		return false
	}
	r, err := decode(rraw)
	if err != nil {
		return false
	}
	return semanticEqual(l, r)
}

// FindEqual returns the revisions Equal to needle, in their order.
func FindEqual(revs []*appsv1.ControllerRevision, needle *appsv1.ControllerRevision, decode Decoder) []*appsv1.ControllerRevision {
	var eq []*appsv1.ControllerRevision
	for _, r := range revs {
		if Equal(r, needle, decode) {
			eq = append(eq, r)
		}
	}
	return eq
}

func rawData(r *appsv1.ControllerRevision) ([]byte, error) {
	if len(r.Data.Raw) > 0 || r.Data.Object == nil {
		return r.Data.Raw, nil
	}
	return json.Marshal(r.Data.Object)
}

// decodeGeneric decodes JSON and drops null members and empty objects and
// arrays, which serializers emit or omit at will.
func decodeGeneric(raw []byte) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return prune(v), nil
}

func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			e = prune(e)
			if isEmpty(e) {
				continue
			}
			out[k] = e
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = prune(e)
		}
		return out
	}
	return v
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

func semanticEqual(a, b any) bool {
	if _, ok := a.(map[string]any); ok {
		return reflect.DeepEqual(a, b)
	}
	return semantic.DeepEqual(a, b)
}
