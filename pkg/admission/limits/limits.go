// Package limits assembles the admission plugins that limit what a
// namespace may use, in kube-apiserver's order: LimitRanger (defaults, then
// min/max) and ResourceQuota (k8s.io/apiserver's plugin over herd's
// evaluators in pkg/quota), to follow NamespaceLifecycle in the chain.
package limits

import (
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	resourcequotaapi "k8s.io/apiserver/pkg/admission/plugin/resourcequota/apis/resourcequota"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/herd-project/herd/pkg/admission/limitranger"
	"github.com/herd-project/herd/pkg/quota"
)

// quotaEvaluators is how many admission requests the quota plugin
// evaluates at once (kube-apiserver's default).
const quotaEvaluators = 5

// Plugins returns the LimitRanger and ResourceQuota plugins, ready; stop
// ends the quota plugin's workers (kube-apiserver closes it once in-flight
// requests are drained).
func Plugins(client kubernetes.Interface, f informers.SharedInformerFactory, stop <-chan struct{}) ([]admission.Interface, error) {
	lr, err := limitranger.New(client, nil)
	if err != nil {
		return nil, err
	}
	lr.SetExternalKubeInformerFactory(f)
	if err := lr.ValidateInitialization(); err != nil {
		return nil, err
	}
	rq, err := resourcequota.NewResourceQuota(&resourcequotaapi.Configuration{}, quotaEvaluators)
	if err != nil {
		return nil, err
	}
	rq.SetDrainedNotification(stop)
	rq.SetExternalKubeClientSet(client)
	rq.SetExternalKubeInformerFactory(f)
	// Admission needs only each object's usage: no listers.
	rq.SetQuotaConfiguration(quota.NewConfiguration(nil, nil))
	if err := rq.ValidateInitialization(); err != nil {
		return nil, err
	}
	return []admission.Interface{lr, rq}, nil
}
