package apiserver

import (
	genericapiserver "k8s.io/apiserver/pkg/server"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/herd-project/herd/pkg/registry/flowcontrol/ensurer"
)

// enablePriorityAndFairness turns on API Priority and Fairness as
// kube-apiserver does: the server's concurrency limit is the sum of the
// max-in-flight limits (which APF replaces), shared among the priority
// levels by their nominal concurrency shares.
func enablePriorityAndFairness(cfg *genericapiserver.RecommendedConfig, f informers.SharedInformerFactory, client kubernetes.Interface) {
	limit := cfg.MaxRequestsInFlight + cfg.MaxMutatingRequestsInFlight
	cfg.FlowControl = utilflowcontrol.New(f, client.FlowcontrolV1(), limit)
}

// addFlowControlBootstrap keeps the mandatory and suggested FlowSchemas and
// PriorityLevelConfigurations in place (kube-apiserver's
// priority-and-fairness-config-producer).
func addFlowControlBootstrap(gs *genericapiserver.GenericAPIServer, client kubernetes.Interface) {
	gs.AddPostStartHookOrDie("priority-and-fairness-config-producer", func(ctx genericapiserver.PostStartHookContext) error {
		go ensurer.Run(ctx, client.FlowcontrolV1(), nil)
		return nil
	})
}
