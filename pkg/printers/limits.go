package printers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Columns of the resources that limit usage: ResourceQuota, LimitRange,
// FlowSchema and PriorityLevelConfiguration (Kubernetes' printers).
func init() {
	register(schema.GroupResource{Group: corev1.GroupName, Resource: "resourcequotas"}, []metav1.TableColumnDefinition{
		nameColumn(),
		ageColumn(),
		column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
		column("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
	}, typed(func(q *corev1.ResourceQuota, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		request, limit := quotaColumns(q)
		return cells(q.Name, since(q.CreationTimestamp, now), request, limit)
	}))

	register(schema.GroupResource{Group: corev1.GroupName, Resource: "limitranges"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Created At", "date", objectMetaDoc["creationTimestamp"]),
	}, typed(func(l *corev1.LimitRange, _ time.Time) ([]interface{}, []metav1.TableRowCondition) {
		return cells(l.Name, l.CreationTimestamp.Time.UTC().Format(time.RFC3339))
	}))

	fsDoc := flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()
	register(schema.GroupResource{Group: flowcontrolv1.GroupName, Resource: "flowschemas"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("PriorityLevel", "string", flowcontrolv1.PriorityLevelConfigurationReference{}.SwaggerDoc()["name"]),
		column("MatchingPrecedence", "string", fsDoc["matchingPrecedence"]),
		column("DistinguisherMethod", "string", fsDoc["distinguisherMethod"]),
		ageColumn(),
		column("MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration"),
	}, typed(func(fs *flowcontrolv1.FlowSchema, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		method := "<none>"
		if fs.Spec.DistinguisherMethod != nil {
			method = string(fs.Spec.DistinguisherMethod.Type)
		}
		missing := "?"
		for _, c := range fs.Status.Conditions {
			if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
				missing = string(c.Status)
				break
			}
		}
		return cells(fs.Name, fs.Spec.PriorityLevelConfiguration.Name, int64(fs.Spec.MatchingPrecedence), method,
			since(fs.CreationTimestamp, now), missing)
	}))

	queuingDoc := flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()
	register(schema.GroupResource{Group: flowcontrolv1.GroupName, Resource: "prioritylevelconfigurations"}, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Type", "string", flowcontrolv1.PriorityLevelConfigurationSpec{}.SwaggerDoc()["type"]),
		column("NominalConcurrencyShares", "string", flowcontrolv1.LimitedPriorityLevelConfiguration{}.SwaggerDoc()["nominalConcurrencyShares"]),
		column("Queues", "string", queuingDoc["queues"]),
		column("HandSize", "string", queuingDoc["handSize"]),
		column("QueueLengthLimit", "string", queuingDoc["queueLengthLimit"]),
		ageColumn(),
	}, typed(func(pl *flowcontrolv1.PriorityLevelConfiguration, now time.Time) ([]interface{}, []metav1.TableRowCondition) {
		var shares, queues, handSize, queueLength interface{} = "<none>", "<none>", "<none>", "<none>"
		if l := pl.Spec.Limited; l != nil {
			shares = int64(int32Value(l.NominalConcurrencyShares))
			if q := l.LimitResponse.Queuing; q != nil {
				queues, handSize, queueLength = int64(q.Queues), int64(q.HandSize), int64(q.QueueLengthLimit)
			}
		}
		return cells(pl.Name, string(pl.Spec.Type), shares, queues, handSize, queueLength, since(pl.CreationTimestamp, now))
	}))
}

// quotaColumns renders "name: used/hard" for every hard resource, sorted by
// name; limits.* go to the LIMIT column, the rest to REQUEST.
func quotaColumns(q *corev1.ResourceQuota) (request, limit string) {
	names := make([]string, 0, len(q.Status.Hard))
	for name := range q.Status.Hard {
		names = append(names, string(name))
	}
	sort.Strings(names)
	var req, lim []string
	for _, name := range names {
		used := q.Status.Used[corev1.ResourceName(name)]
		hard := q.Status.Hard[corev1.ResourceName(name)]
		entry := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
		if pieces := strings.Split(name, "."); len(pieces) > 1 && pieces[0] == "limits" {
			lim = append(lim, entry)
		} else {
			req = append(req, entry)
		}
	}
	return strings.Join(req, ", "), strings.Join(lim, ", ")
}
