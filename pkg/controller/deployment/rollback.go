package deployment

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/herd-project/herd/pkg/controller/deployment/util"
)

// Rollback event reasons (the legacy deprecated.deployment.rollback.to
// annotation; kubectl rollout undo patches the template instead).
const (
	RollbackRevisionNotFound  = "DeploymentRollbackRevisionNotFound"
	RollbackTemplateUnchanged = "DeploymentRollbackTemplateUnchanged"
	RollbackDone              = "DeploymentRollback"
)

// getRollbackTo returns the requested revision, or nil when none (or unparsable).
func getRollbackTo(d *appsv1.Deployment) *int64 {
	v, ok := d.Annotations[util.RollbackToAnnotation]
	if !ok || v == "" {
		return nil
	}
	r, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &r
}

// rollback copies the template of the requested revision (0: the previous
// one) into the Deployment and clears the annotation.
func (c *Controller) rollback(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := append(oldRSs, newRS)
	to := *getRollbackTo(d)
	if to == 0 {
		if to = util.LastRevision(all); to == 0 {
			c.recorder.Event(d, corev1.EventTypeWarning, RollbackRevisionNotFound, "Unable to find last revision.")
			return c.updateDeploymentAndClearRollbackTo(ctx, d)
		}
	}
	for _, rs := range all {
		if rs == nil {
			continue
		}
		v, err := util.Revision(rs)
		if err != nil || v != to {
			continue
		}
		done := false
		if !util.EqualIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			tmpl := rs.Spec.Template.DeepCopy()
			delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
			d.Spec.Template = *tmpl
			util.SetDeploymentAnnotationsTo(d, rs)
			done = true
		} else {
			c.recorder.Eventf(d, corev1.EventTypeWarning, RollbackTemplateUnchanged, "The rollback revision contains the same template as current deployment %q", d.Name)
		}
		err = c.updateDeploymentAndClearRollbackTo(ctx, d)
		if done && err == nil {
			c.recorder.Eventf(d, corev1.EventTypeNormal, RollbackDone, "Rolled back deployment %q to revision %d", d.Name, to)
		}
		return err
	}
	c.recorder.Event(d, corev1.EventTypeWarning, RollbackRevisionNotFound, "Unable to find the revision to rollback to.")
	return c.updateDeploymentAndClearRollbackTo(ctx, d)
}

func (c *Controller) updateDeploymentAndClearRollbackTo(ctx context.Context, d *appsv1.Deployment) error {
	delete(d.Annotations, util.RollbackToAnnotation)
	_, err := c.client.AppsV1().Deployments(d.Namespace).Update(ctx, d, metav1.UpdateOptions{})
	return err
}
