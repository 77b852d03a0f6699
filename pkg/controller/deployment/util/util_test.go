package util

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func rs(name string, replicas int32, ann map[string]string, created int64) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: k8stypes.UID("u-" + name), Annotations: ann, CreationTimestamp: metav1.Unix(created, 0)},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To(replicas)},
	}
}

func dep(replicas int32, surge, unavail string) *appsv1.Deployment {
	s, u := intstr.Parse(surge), intstr.Parse(unavail)
	return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To(replicas),
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}},
	}}
}

func TestRevisions(t *testing.T) {
	all := []*appsv1.ReplicaSet{
		rs("a", 0, map[string]string{RevisionAnnotation: "3"}, 1),
		rs("b", 0, map[string]string{RevisionAnnotation: "7"}, 2),
		rs("c", 0, map[string]string{RevisionAnnotation: "5"}, 3),
		rs("d", 0, map[string]string{RevisionAnnotation: "junk"}, 4),
	}
	if MaxRevision(all) != 7 || LastRevision(all) != 5 {
		t.Fatalf("max %d last %d", MaxRevision(all), LastRevision(all))
	}
}

func TestSetNewReplicaSetAnnotations(t *testing.T) {
	d := dep(4, "1", "0")
	d.Annotations = map[string]string{"kubernetes.io/change-cause": "v2", RevisionAnnotation: "9", LastAppliedAnnotation: "x"}
	r := rs("r", 0, nil, 0)
	if !SetNewReplicaSetAnnotations(d, r, "1", false, MaxRevHistoryLengthInChars) {
		t.Fatal("no change reported")
	}
	want := map[string]string{"kubernetes.io/change-cause": "v2", RevisionAnnotation: "1", DesiredReplicasAnnotation: "4", MaxReplicasAnnotation: "5"}
	if len(r.Annotations) != len(want) {
		t.Fatalf("annotations %v", r.Annotations)
	}
	for k, v := range want {
		if r.Annotations[k] != v {
			t.Fatalf("annotations %v", r.Annotations)
		}
	}
	// Rollback to it: revision 1 -> 4, history "1"; again -> 6, "1,4".
	SetNewReplicaSetAnnotations(d, r, "4", true, MaxRevHistoryLengthInChars)
	SetNewReplicaSetAnnotations(d, r, "6", true, MaxRevHistoryLengthInChars)
	if r.Annotations[RevisionAnnotation] != "6" || r.Annotations[RevisionHistoryAnnotation] != "1,4" {
		t.Fatalf("annotations %v", r.Annotations)
	}
	// A lower revision never replaces a higher one.
	if SetNewReplicaSetAnnotations(d, r, "2", true, MaxRevHistoryLengthInChars) || r.Annotations[RevisionAnnotation] != "6" {
		t.Fatalf("downgraded: %v", r.Annotations)
	}
	// History is trimmed from the front to the char limit.
	SetNewReplicaSetAnnotations(d, r, "10", true, 4)
	if h := r.Annotations[RevisionHistoryAnnotation]; h != "4,6" || len(h) > 4 {
		t.Fatalf("history %q", h)
	}
	if strings.Contains(r.Annotations[RevisionHistoryAnnotation], "1,") {
		t.Fatal("oldest not trimmed")
	}
}

func TestProportion(t *testing.T) {
	d := dep(20, "3", "2")
	r := rs("r", 8, map[string]string{MaxReplicasAnnotation: "13"}, 0)
	if p := GetProportion(r, d, 12, 0); p != 6 {
		t.Fatalf("proportion %d, want 6", p)
	}
	if p := GetProportion(r, d, 12, 10); p != 2 {
		t.Fatalf("capped proportion %d, want 2", p)
	}
	// Scaling down: 8 of 13 at 10+3 -> 8*13/23... d=10: fraction round(8*13/23)-8 = -3.
	d = dep(10, "3", "2")
	r = rs("r", 8, map[string]string{MaxReplicasAnnotation: "23"}, 0)
	if p := GetProportion(r, d, -10, 0); p != -3 {
		t.Fatalf("down proportion %d, want -3", p)
	}
	// To zero: everything goes.
	d = dep(0, "3", "2")
	if p := GetProportion(r, d, -10, 0); p != -8 {
		t.Fatalf("to zero %d", p)
	}
}

func TestFindActiveOrLatest(t *testing.T) {
	a, b := rs("a", 0, nil, 1), rs("b", 0, nil, 2)
	if got := FindActiveOrLatest(nil, []*appsv1.ReplicaSet{a, b}); got.Name != "b" {
		t.Fatalf("latest = %s", got.Name)
	}
	a.Spec.Replicas = ptr.To(int32(2))
	if got := FindActiveOrLatest(b, []*appsv1.ReplicaSet{a}); got.Name != "a" {
		t.Fatalf("active = %s", got.Name)
	}
	b.Spec.Replicas = ptr.To(int32(1))
	if got := FindActiveOrLatest(b, []*appsv1.ReplicaSet{a}); got != nil {
		t.Fatalf("two active: %v", got.Name)
	}
}

func TestNewRSNewReplicasAndMaxUnavailable(t *testing.T) {
	d := dep(10, "25%", "25%")
	n := rs("new", 0, nil, 2)
	old := rs("old", 10, nil, 1)
	got, _ := NewRSNewReplicas(d, []*appsv1.ReplicaSet{old, n}, n)
	if got != 3 {
		t.Fatalf("new replicas %d, want 3", got)
	}
	if MaxUnavailable(dep(2, "0", "300%")) != 2 {
		t.Fatal("maxUnavailable not capped at replicas")
	}
	if MaxUnavailable(dep(0, "1", "1")) != 0 {
		t.Fatal("maxUnavailable for 0 replicas")
	}
}

func TestSetConditionKeepsTransitionTime(t *testing.T) {
	var st appsv1.DeploymentStatus
	t1 := metav1.Unix(100, 0)
	SetCondition(&st, appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: "True", Reason: "A", LastTransitionTime: t1, LastUpdateTime: t1})
	t2 := metav1.Unix(200, 0)
	SetCondition(&st, appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: "True", Reason: "B", LastTransitionTime: t2, LastUpdateTime: t2})
	c := GetCondition(st, appsv1.DeploymentAvailable)
	if c.Reason != "B" || !c.LastTransitionTime.Equal(&t1) || !c.LastUpdateTime.Equal(&t2) || len(st.Conditions) != 1 {
		t.Fatalf("condition %+v", c)
	}
	// Same status and reason: untouched.
	SetCondition(&st, appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: "True", Reason: "B", LastUpdateTime: metav1.Unix(300, 0)})
	if !GetCondition(st, appsv1.DeploymentAvailable).LastUpdateTime.Equal(&t2) {
		t.Fatal("condition rewritten")
	}
}
