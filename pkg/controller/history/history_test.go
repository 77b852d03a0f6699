package history

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

var stsKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

func parent() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-web"}}
}

func raw(s string) runtime.RawExtension { return runtime.RawExtension{Raw: []byte(s)} }

func TestHashDependsOnDataAndCollisionCount(t *testing.T) {
	a := &appsv1.ControllerRevision{Data: raw(`{"a":1}`)}
	b := &appsv1.ControllerRevision{Data: raw(`{"a":2}`)}
	if Hash(a, nil) != Hash(a.DeepCopy(), nil) {
		t.Fatal("hash is not deterministic")
	}
	if Hash(a, nil) == Hash(b, nil) {
		t.Fatal("different data, same hash")
	}
	if Hash(a, ptr.To[int32](0)) == Hash(a, ptr.To[int32](1)) {
		t.Fatal("collisionCount does not change the hash")
	}
	if h := Hash(a, nil); strings.ContainsAny(h, "aeiou") {
		t.Fatalf("hash %q is not safe-encoded", h)
	}
}

func TestNameTruncatesPrefix(t *testing.T) {
	if got := Name("web", "abc"); got != "web-abc" {
		t.Fatalf("Name = %q", got)
	}
	if got := Name(strings.Repeat("x", 300), "abc"); len(got) != 223+4 {
		t.Fatalf("long prefix: len %d", len(got))
	}
}

func TestNewRevision(t *testing.T) {
	p := parent()
	cr := New(p, stsKind, map[string]string{"app": "web"}, raw(`{"x":1}`), 3, ptr.To[int32](0))
	if cr.Revision != 3 || cr.Namespace != "ns" {
		t.Fatalf("revision %d namespace %q", cr.Revision, cr.Namespace)
	}
	hash := Hash(cr, ptr.To[int32](0))
	if cr.Name != "web-"+hash || cr.Labels[HashLabel] != hash || cr.Labels["app"] != "web" {
		t.Fatalf("name %q labels %v, want hash %q", cr.Name, cr.Labels, hash)
	}
	ref := metav1.GetControllerOf(cr)
	if ref == nil || ref.UID != p.UID || ref.Kind != "StatefulSet" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Fatalf("controller ref %+v", ref)
	}
}

func TestEqualByMeaning(t *testing.T) {
	rev := func(s string) *appsv1.ControllerRevision { return &appsv1.ControllerRevision{Data: raw(s)} }
	cases := []struct {
		name     string
		lhs, rhs *appsv1.ControllerRevision
		want     bool
	}{
		{"nil nil", nil, nil, true},
		{"nil one", nil, rev(`{}`), false},
		{"same bytes", rev(`{"a":1}`), rev(`{"a":1}`), true},
		{"reordered", rev(`{"a":1,"b":{"c":2,"d":3}}`), rev(`{"b":{"d":3,"c":2},"a":1}`), true},
		{"null member", rev(`{"a":1,"m":{"creationTimestamp":null}}`), rev(`{"a":1}`), true},
		{"different value", rev(`{"a":1}`), rev(`{"a":2}`), false},
		{"list order matters", rev(`{"l":[1,2]}`), rev(`{"l":[2,1]}`), false},
		{"bad json", rev(`{`), rev(`{"a":1}`), false},
	}
	for _, c := range cases {
		if got := Equal(c.lhs, c.rhs, nil); got != c.want {
			t.Errorf("%s: Equal = %v, want %v", c.name, got, c.want)
		}
	}
	// Hash labels made with different collision counts do not matter.
	a, b := rev(`{"a":1}`), rev(`{"a":1}`)
	a.Labels = map[string]string{HashLabel: "1"}
	b.Labels = map[string]string{HashLabel: "2"}
	if !Equal(a, b, nil) {
		t.Error("equal data with different hash labels is not equal")
	}
}

func TestEqualWithTypedDecoder(t *testing.T) {
	type data struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	decode := func(b []byte) (any, error) {
		var d data
		err := json.Unmarshal(b, &d)
		return d, err
	}
	// An empty resources object and an absent one mean the same.
	a := &appsv1.ControllerRevision{Data: raw(`{"spec":{"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i","resources":{}}]}}}}`)}
	b := &appsv1.ControllerRevision{Data: raw(`{"spec":{"template":{"spec":{"containers":[{"image":"i","name":"c"}]},"metadata":{"labels":{"a":"b"},"creationTimestamp":null}}}}`)}
	if !Equal(a, b, decode) {
		t.Fatal("semantically equal templates are not equal")
	}
	c := &appsv1.ControllerRevision{Data: raw(`{"spec":{"template":{"spec":{"containers":[{"image":"j","name":"c"}]}}}}`)}
	if Equal(a, c, decode) {
		t.Fatal("different images are equal")
	}
	if got := FindEqual([]*appsv1.ControllerRevision{c, b, a}, a, decode); len(got) != 2 || got[0] != b || got[1] != a {
		t.Fatalf("FindEqual = %v", got)
	}
}

func TestSortAndNextRevision(t *testing.T) {
	t0 := metav1.NewTime(time.Unix(1000, 0))
	t1 := metav1.NewTime(time.Unix(2000, 0))
	mk := func(name string, n int64, ts metav1.Time) *appsv1.ControllerRevision {
		return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: ts}, Revision: n}
	}
	revs := []*appsv1.ControllerRevision{mk("c", 3, t0), mk("b", 1, t1), mk("z", 1, t0), mk("a", 1, t0)}
	Sort(revs)
	var got []string
	for _, r := range revs {
		got = append(got, r.Name)
	}
	if strings.Join(got, ",") != "a,z,b,c" {
		t.Fatalf("sorted %v", got)
	}
	if n := NextRevision(revs); n != 4 {
		t.Fatalf("NextRevision = %d", n)
	}
	if n := NextRevision(nil); n != 1 {
		t.Fatalf("NextRevision(nil) = %d", n)
	}
}

func TestToTruncate(t *testing.T) {
	var revs []*appsv1.ControllerRevision
	for i := int64(1); i <= 6; i++ {
		revs = append(revs, &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: string(rune('a' + i))}, Revision: i})
	}
	live := func(r *appsv1.ControllerRevision) bool { return r.Revision == 2 || r.Revision == 6 }
	got := ToTruncate(revs, 2, live)
	if len(got) != 2 || got[0].Revision != 1 || got[1].Revision != 3 {
		t.Fatalf("ToTruncate = %v", got)
	}
	if got := ToTruncate(revs, 10, live); got != nil {
		t.Fatalf("under the limit: %v", got)
	}
	if got := ToTruncate(revs, 0, live); len(got) != 4 {
		t.Fatalf("limit 0: %d", len(got))
	}
}

type fixture struct {
	client *fake.Clientset
	h      *History
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	inf := f.Apps().V1().ControllerRevisions()
	for _, o := range objs {
		if cr, ok := o.(*appsv1.ControllerRevision); ok {
			if err := inf.Informer().GetIndexer().Add(cr); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &fixture{client: client, h: &History{Client: client, Lister: inf.Lister()}}
}

func rev(name string, lbls map[string]string, owner *metav1.OwnerReference) *appsv1.ControllerRevision {
	cr := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Labels: lbls}, Data: raw(`{}`)}
	if owner != nil {
		cr.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return cr
}

func TestListClaimsRevisions(t *testing.T) {
	p := parent()
	mine := metav1.NewControllerRef(p, stsKind)
	other := &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "x", UID: "uid-x", Controller: ptr.To(true)}
	match := map[string]string{"app": "web"}
	f := newFixture(t,
		rev("owned", match, mine),
		rev("orphan", match, nil),
		rev("stray", map[string]string{"app": "other"}, mine),
		rev("foreign", match, other),
		rev("unrelated", map[string]string{"app": "other"}, nil),
	)
	owner := Owner{Object: p, Kind: stsKind, Selector: labels.SelectorFromSet(match)}
	got, err := f.h.List(context.Background(), owner)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range got {
		names[r.Name] = true
	}
	if len(got) != 2 || !names["owned"] || !names["orphan"] {
		t.Fatalf("claimed %v", names)
	}
	ctx := context.Background()
	orphan, _ := f.client.AppsV1().ControllerRevisions("ns").Get(ctx, "orphan", metav1.GetOptions{})
	if ref := metav1.GetControllerOf(orphan); ref == nil || ref.UID != p.UID {
		t.Fatalf("orphan not adopted: %+v", orphan.OwnerReferences)
	}
	stray, _ := f.client.AppsV1().ControllerRevisions("ns").Get(ctx, "stray", metav1.GetOptions{})
	if len(stray.OwnerReferences) != 0 {
		t.Fatalf("stray not released: %+v", stray.OwnerReferences)
	}
	foreign, _ := f.client.AppsV1().ControllerRevisions("ns").Get(ctx, "foreign", metav1.GetOptions{})
	if ref := metav1.GetControllerOf(foreign); ref == nil || ref.UID != "uid-x" {
		t.Fatalf("foreign revision touched: %+v", foreign.OwnerReferences)
	}
}

func TestListDoesNotAdoptWhenItMayNot(t *testing.T) {
	p := parent()
	match := map[string]string{"app": "web"}
	f := newFixture(t, rev("orphan", match, nil))
	calls := 0
	owner := Owner{Object: p, Kind: stsKind, Selector: labels.SelectorFromSet(match),
		CanAdopt: func(context.Context) error { calls++; return context.Canceled }}
	got, err := f.h.List(context.Background(), owner)
	if err == nil || len(got) != 0 || calls != 1 {
		t.Fatalf("got %v err %v calls %d", got, err, calls)
	}
	deleting := parent()
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	owner = Owner{Object: deleting, Kind: stsKind, Selector: labels.SelectorFromSet(match)}
	got, err = f.h.List(context.Background(), owner)
	if err != nil || len(got) != 0 {
		t.Fatalf("deleting owner adopted: %v %v", got, err)
	}
	cr, _ := f.client.AppsV1().ControllerRevisions("ns").Get(context.Background(), "orphan", metav1.GetOptions{})
	if len(cr.OwnerReferences) != 0 {
		t.Fatalf("orphan adopted: %+v", cr.OwnerReferences)
	}
}

func TestCreateHandlesCollisions(t *testing.T) {
	ctx := context.Background()
	p := parent()
	cc := ptr.To[int32](0)
	want := New(p, stsKind, nil, raw(`{"a":1}`), 1, cc)

	// The name is taken by a revision with other data: a hash collision.
	squatter := want.DeepCopy()
	squatter.Data = raw(`{"a":"other"}`)
	f := newFixture(t, squatter)
	created, err := f.h.Create(ctx, p, want, cc)
	if err != nil {
		t.Fatal(err)
	}
	if *cc != 1 {
		t.Fatalf("collisionCount = %d, want 1", *cc)
	}
	if created.Name == squatter.Name || created.Name != Name("web", Hash(want, cc)) || created.Labels[HashLabel] != Hash(want, cc) {
		t.Fatalf("created %q labels %v", created.Name, created.Labels)
	}

	// The same revision again: the existing one is returned, no bump.
	again, err := f.h.Create(ctx, p, want, cc)
	if err != nil || again.Name != created.Name || *cc != 1 {
		t.Fatalf("again: %v %v cc=%d", again, err, *cc)
	}
	if _, err := f.h.Create(ctx, p, want, nil); err != ErrCollisionCountNil {
		t.Fatalf("nil collisionCount: %v", err)
	}
}

func TestCreateTreatsForeignEqualDataAsCollision(t *testing.T) {
	ctx := context.Background()
	p := parent()
	cc := ptr.To[int32](0)
	want := New(p, stsKind, nil, raw(`{"a":1}`), 1, cc)
	foreign := want.DeepCopy()
	foreign.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "x", UID: "uid-x", Controller: ptr.To(true)}}
	f := newFixture(t, foreign)
	created, err := f.h.Create(ctx, p, want, cc)
	if err != nil || *cc != 1 || created.Name == foreign.Name {
		t.Fatalf("created %v err %v cc %d", created, err, *cc)
	}
}

func TestRenumberAndDelete(t *testing.T) {
	ctx := context.Background()
	cr := rev("r", nil, nil)
	cr.Revision = 1
	f := newFixture(t, cr)
	got, err := f.h.Renumber(ctx, cr, 5)
	if err != nil || got.Revision != 5 || cr.Revision != 1 {
		t.Fatalf("Renumber: %v %v (input %d)", got, err, cr.Revision)
	}
	stored, _ := f.client.AppsV1().ControllerRevisions("ns").Get(ctx, "r", metav1.GetOptions{})
	if stored.Revision != 5 {
		t.Fatalf("stored revision %d", stored.Revision)
	}
	if err := f.h.Delete(ctx, cr); err != nil {
		t.Fatal(err)
	}
	if err := f.h.Delete(ctx, cr); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}
