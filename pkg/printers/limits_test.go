package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestLimitColumns(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "o", CreationTimestamp: ago(20 * time.Minute)}
	q := &corev1.ResourceQuota{ObjectMeta: meta, Status: corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{"pods": resource.MustParse("100"), "limits.cpu": resource.MustParse("4"), "requests.cpu": resource.MustParse("2"), "limits.memory": resource.MustParse("1Gi")},
		Used: corev1.ResourceList{"pods": resource.MustParse("100"), "limits.cpu": resource.MustParse("1500m"), "requests.cpu": resource.MustParse("1")},
	}}
	checkCells(t, cellsOf(t, schema.GroupResource{Resource: "resourcequotas"}, q),
		[]interface{}{"o", "20m", "pods: 100/100, requests.cpu: 1/2", "limits.cpu: 1500m/4, limits.memory: 0/1Gi"})

	checkCells(t, cellsOf(t, schema.GroupResource{Resource: "limitranges"}, &corev1.LimitRange{ObjectMeta: meta}),
		[]interface{}{"o", ago(20 * time.Minute).UTC().Format(time.RFC3339)})

	fs := &flowcontrolv1.FlowSchema{ObjectMeta: meta, Spec: flowcontrolv1.FlowSchemaSpec{
		PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "workload-low"}, MatchingPrecedence: 9000,
		DistinguisherMethod: &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType}},
		Status: flowcontrolv1.FlowSchemaStatus{Conditions: []flowcontrolv1.FlowSchemaCondition{{Type: flowcontrolv1.FlowSchemaConditionDangling, Status: flowcontrolv1.ConditionFalse}}}}
	gr := schema.GroupResource{Group: flowcontrolv1.GroupName, Resource: "flowschemas"}
	checkCells(t, cellsOf(t, gr, fs), []interface{}{"o", "workload-low", int64(9000), "ByUser", "20m", "False"})
	fs.Spec.DistinguisherMethod = nil
	fs.Status.Conditions = nil
	checkCells(t, cellsOf(t, gr, fs), []interface{}{"o", "workload-low", int64(9000), "<none>", "20m", "?"})

	plGR := schema.GroupResource{Group: flowcontrolv1.GroupName, Resource: "prioritylevelconfigurations"}
	pl := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: meta, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
		Type: flowcontrolv1.PriorityLevelEnablementLimited, Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
			NominalConcurrencyShares: ptr(int32(100)), LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue,
				Queuing: &flowcontrolv1.QueuingConfiguration{Queues: 128, HandSize: 6, QueueLengthLimit: 50}}}}}
	checkCells(t, cellsOf(t, plGR, pl), []interface{}{"o", "Limited", int64(100), int64(128), int64(6), int64(50), "20m"})
	exempt := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: meta, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementExempt}}
	checkCells(t, cellsOf(t, plGR, exempt), []interface{}{"o", "Exempt", "<none>", "<none>", "<none>", "<none>", "20m"})
}
