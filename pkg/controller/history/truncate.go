package history

import (
	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

var semantic = apiequality.Semantic

// ToTruncate returns the revisions to delete so that at most limit revisions
// remain besides the live ones: the oldest non-live revisions go first. A
// revision is live when live reports it so (the current and update
// revisions, and those some pod still runs). revs need not be sorted.
func ToTruncate(revs []*appsv1.ControllerRevision, limit int32, live func(*appsv1.ControllerRevision) bool) []*appsv1.ControllerRevision {
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live(r) {
			old = append(old, r)
		}
	}
	if limit < 0 {
		limit = 0
	}
	excess := len(old) - int(limit)
	if excess <= 0 {
		return nil
	}
	Sort(old)
	return old[:excess]
}
