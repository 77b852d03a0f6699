package flowcontrol

import (
	"strings"
	"testing"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap"
	"k8s.io/utils/ptr"
)

func hasError(t *testing.T, name string, errs field.ErrorList, want string) {
	t.Helper()
	agg := errs.ToAggregate()
	if want == "" {
		if len(errs) != 0 {
			t.Errorf("%s: unexpected %v", name, agg)
		}
		return
	}
	if len(errs) == 0 || !strings.Contains(agg.Error(), want) {
		t.Errorf("%s: got %v, want %q", name, agg, want)
	}
}

func TestBootstrapObjectsAreValid(t *testing.T) {
	for _, pl := range append(append([]*flowcontrolv1.PriorityLevelConfiguration{}, bootstrap.MandatoryPriorityLevelConfigurations...), bootstrap.SuggestedPriorityLevelConfigurations...) {
		hasError(t, pl.Name, ValidatePriorityLevelConfiguration(pl), "")
	}
	for _, fs := range append(append([]*flowcontrolv1.FlowSchema{}, bootstrap.MandatoryFlowSchemas...), bootstrap.SuggestedFlowSchemas...) {
		hasError(t, fs.Name, ValidateFlowSchema(fs), "")
	}
}

func TestPriorityLevelDefaultsAndValidation(t *testing.T) {
	pl := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "mine"}, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
		Type: flowcontrolv1.PriorityLevelEnablementLimited, Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
			LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: &flowcontrolv1.QueuingConfiguration{}}}}}
	SetDefaultsPriorityLevelConfiguration(pl)
	l := pl.Spec.Limited
	if *l.NominalConcurrencyShares != 30 || *l.LendablePercent != 0 || l.LimitResponse.Queuing.Queues != 64 ||
		l.LimitResponse.Queuing.HandSize != 8 || l.LimitResponse.Queuing.QueueLengthLimit != 50 {
		t.Errorf("defaults: %+v %+v", l, l.LimitResponse.Queuing)
	}
	hasError(t, "defaulted", ValidatePriorityLevelConfiguration(pl), "")

	bad := pl.DeepCopy()
	bad.Spec.Limited.LimitResponse.Queuing.HandSize = 100
	hasError(t, "hand size", ValidatePriorityLevelConfiguration(bad), "spec.limited.limitResponse.queuing.handSize: Invalid value: 100: should not be greater than queues (64)")
	bad = pl.DeepCopy()
	bad.Spec.Limited.LendablePercent = ptr.To[int32](101)
	hasError(t, "lendable", ValidatePriorityLevelConfiguration(bad), "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive")
	bad = pl.DeepCopy()
	bad.Name = "exempt"
	hasError(t, "exempt name", ValidatePriorityLevelConfiguration(bad), "type must be 'Exempt' if and only if name is 'exempt'")
	bad = pl.DeepCopy()
	bad.Name = "catch-all"
	hasError(t, "catch-all", ValidatePriorityLevelConfiguration(bad), "type must be 'Reject' if name is 'catch-all'")
	bad = pl.DeepCopy()
	bad.Spec.Limited = nil
	hasError(t, "no limited", ValidatePriorityLevelConfiguration(bad), "spec.limited: Required value: must not be empty when type is Limited")
}

func TestFlowSchemaValidation(t *testing.T) {
	fs := &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "mine"}, Spec: flowcontrolv1.FlowSchemaSpec{
		PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "workload-low"},
		Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
			Subjects:      []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindUser, User: &flowcontrolv1.UserSubject{Name: "bob"}}},
			ResourceRules: []flowcontrolv1.ResourcePolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}, Namespaces: []string{"*"}}},
		}},
	}}
	SetDefaultsFlowSchema(fs)
	if fs.Spec.MatchingPrecedence != 1000 {
		t.Errorf("matchingPrecedence default %d", fs.Spec.MatchingPrecedence)
	}
	hasError(t, "valid", ValidateFlowSchema(fs), "")
	bad := fs.DeepCopy()
	bad.Spec.MatchingPrecedence = 10001
	hasError(t, "precedence", ValidateFlowSchema(bad), "spec.matchingPrecedence: Invalid value: 10001: must not be greater than 10000")
	bad = fs.DeepCopy()
	bad.Spec.PriorityLevelConfiguration.Name = ""
	hasError(t, "no level", ValidateFlowSchema(bad), "spec.priorityLevelConfiguration.name: Required value: must reference a priority level")
	bad = fs.DeepCopy()
	bad.Spec.Rules[0].ResourceRules[0].Namespaces = nil
	hasError(t, "namespaces", ValidateFlowSchema(bad), "spec.rules[0].resourceRules[0].namespaces: Required value")
	bad = fs.DeepCopy()
	bad.Spec.Rules[0].Subjects[0] = flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindServiceAccount, ServiceAccount: &flowcontrolv1.ServiceAccountSubject{Name: "x"}}
	hasError(t, "sa namespace", ValidateFlowSchema(bad), "spec.rules[0].subjects[0].serviceAccount.namespace: Required value: must specify namespace for service account")
	bad = fs.DeepCopy()
	bad.Spec.DistinguisherMethod = &flowcontrolv1.FlowDistinguisherMethod{Type: "ByColor"}
	hasError(t, "distinguisher", ValidateFlowSchema(bad), "spec.distinguisherMethod.type: Unsupported value: \"ByColor\"")
}
