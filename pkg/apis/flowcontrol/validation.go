package flowcontrol

import (
	"fmt"
	"strings"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/util/shufflesharding"
)

const maxMatchingPrecedence = 10000

var (
	supportedSubjectKinds         = sets.New(string(flowcontrolv1.SubjectKindServiceAccount), string(flowcontrolv1.SubjectKindGroup), string(flowcontrolv1.SubjectKindUser))
	supportedDistinguisherMethods = sets.New(string(flowcontrolv1.FlowDistinguisherMethodByNamespaceType), string(flowcontrolv1.FlowDistinguisherMethodByUserType))
	supportedVerbs                = sets.New("get", "list", "create", "update", "delete", "deletecollection", "patch", "watch", "proxy")
	supportedPLTypes              = sets.New(string(flowcontrolv1.PriorityLevelEnablementExempt), string(flowcontrolv1.PriorityLevelEnablementLimited))
	supportedLimitResponseTypes   = sets.New(string(flowcontrolv1.LimitResponseTypeQueue), string(flowcontrolv1.LimitResponseTypeReject))
	supportedConditionStatus      = sets.New(string(flowcontrolv1.ConditionTrue), string(flowcontrolv1.ConditionFalse), string(flowcontrolv1.ConditionUnknown))
)

// ValidateFlowSchema validates a FlowSchema.
func ValidateFlowSchema(fs *flowcontrolv1.FlowSchema) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&fs.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateFlowSchemaSpec(&fs.Spec, specPath)...)
	allErrs = append(allErrs, validateFlowSchemaStatus(&fs.Status, field.NewPath("status"))...)
	return allErrs
}

// ValidateFlowSchemaUpdate validates a change of a FlowSchema.
func ValidateFlowSchemaUpdate(fs, old *flowcontrolv1.FlowSchema) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&fs.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateFlowSchemaSpec(&fs.Spec, specPath)...)
	return allErrs
}

// ValidateFlowSchemaStatusUpdate validates a change of a FlowSchema's status.
func ValidateFlowSchemaStatusUpdate(fs, old *flowcontrolv1.FlowSchema) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&fs.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateFlowSchemaStatus(&fs.Status, field.NewPath("status"))...)
}

func validateFlowSchemaSpec(spec *flowcontrolv1.FlowSchemaSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.MatchingPrecedence <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("matchingPrecedence"), spec.MatchingPrecedence, "must be a positive value"))
	}
	if spec.MatchingPrecedence > maxMatchingPrecedence {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("matchingPrecedence"), spec.MatchingPrecedence, fmt.Sprintf("must not be greater than %v", maxMatchingPrecedence)))
	}
	if spec.DistinguisherMethod != nil && !supportedDistinguisherMethods.Has(string(spec.DistinguisherMethod.Type)) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("distinguisherMethod").Child("type"), spec.DistinguisherMethod.Type, sets.List(supportedDistinguisherMethods)))
	}
	if len(spec.PriorityLevelConfiguration.Name) > 0 {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(spec.PriorityLevelConfiguration.Name, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("priorityLevelConfiguration").Child("name"), spec.PriorityLevelConfiguration.Name, msg))
		}
	} else {
		allErrs = append(allErrs, field.Required(fldPath.Child("priorityLevelConfiguration").Child("name"), "must reference a priority level"))
	}
	for i, rule := range spec.Rules {
		allErrs = append(allErrs, validatePolicyRulesWithSubjects(rule, fldPath.Child("rules").Index(i))...)
	}
	return allErrs
}

func validatePolicyRulesWithSubjects(rule flowcontrolv1.PolicyRulesWithSubjects, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(rule.Subjects) > 0 {
		for i, s := range rule.Subjects {
			allErrs = append(allErrs, validateSubject(&s, fldPath.Child("subjects").Index(i))...)
		}
	} else {
		allErrs = append(allErrs, field.Required(fldPath.Child("subjects"), "subjects must contain at least one value"))
	}
	if len(rule.ResourceRules) == 0 && len(rule.NonResourceRules) == 0 {
		allErrs = append(allErrs, field.Required(fldPath, "at least one of resourceRules and nonResourceRules has to be non-empty"))
	}
	for i, r := range rule.ResourceRules {
		allErrs = append(allErrs, validateResourcePolicyRule(&r, fldPath.Child("resourceRules").Index(i))...)
	}
	for i, r := range rule.NonResourceRules {
		allErrs = append(allErrs, validateNonResourcePolicyRule(&r, fldPath.Child("nonResourceRules").Index(i))...)
	}
	return allErrs
}

func validateSubject(s *flowcontrolv1.Subject, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch s.Kind {
	case flowcontrolv1.SubjectKindServiceAccount:
		if s.ServiceAccount == nil {
			return append(allErrs, field.Required(fldPath.Child("serviceAccount"), "serviceAccount is required when subject kind is 'ServiceAccount'"))
		}
		if len(s.ServiceAccount.Name) == 0 {
			allErrs = append(allErrs, field.Required(fldPath.Child("serviceAccount").Child("name"), ""))
		} else if s.ServiceAccount.Name != flowcontrolv1.NameAll {
			for _, msg := range apimachineryvalidation.ValidateServiceAccountName(s.ServiceAccount.Name, false) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("serviceAccount").Child("name"), s.ServiceAccount.Name, msg))
			}
		}
		if len(s.ServiceAccount.Namespace) > 0 {
			for _, msg := range apimachineryvalidation.ValidateNamespaceName(s.ServiceAccount.Namespace, false) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("serviceAccount").Child("namespace"), s.ServiceAccount.Namespace, msg))
			}
		} else {
			allErrs = append(allErrs, field.Required(fldPath.Child("serviceAccount").Child("namespace"), "must specify namespace for service account"))
		}
		if s.User != nil || s.Group != nil {
			allErrs = append(allErrs, field.Invalid(fldPath, s, "only serviceAccount may be set when kind is 'ServiceAccount'"))
		}
	case flowcontrolv1.SubjectKindUser:
		if s.User == nil {
			return append(allErrs, field.Required(fldPath.Child("user"), "user is required when subject kind is 'User'"))
		}
		if len(s.User.Name) == 0 {
			allErrs = append(allErrs, field.Required(fldPath.Child("user").Child("name"), ""))
		}
	case flowcontrolv1.SubjectKindGroup:
		if s.Group == nil {
			return append(allErrs, field.Required(fldPath.Child("group"), "group is required when subject kind is 'Group'"))
		}
		if len(s.Group.Name) == 0 {
			allErrs = append(allErrs, field.Required(fldPath.Child("group").Child("name"), ""))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("kind"), s.Kind, sets.List(supportedSubjectKinds)))
	}
	return allErrs
}

func hasWildcardWithOthers(list []string, wildcard string) bool {
	return len(list) > 1 && sets.New(list...).Has(wildcard)
}

func validateResourcePolicyRule(r *flowcontrolv1.ResourcePolicyRule, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(r.Verbs) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("verbs"), "verbs must contain at least one value"))
	} else if hasWildcardWithOthers(r.Verbs, flowcontrolv1.VerbAll) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("verbs"), r.Verbs, "if '*' is present, must not specify other verbs"))
	} else if !sets.New(r.Verbs...).Has(flowcontrolv1.VerbAll) {
		if unsupported := sets.New(r.Verbs...).Difference(supportedVerbs); unsupported.Len() > 0 {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("verbs"), r.Verbs, sets.List(supportedVerbs)))
		}
	}
	if len(r.APIGroups) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("apiGroups"), "resource rules must supply at least one api group"))
	} else if hasWildcardWithOthers(r.APIGroups, flowcontrolv1.APIGroupAll) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("apiGroups"), r.APIGroups, "if '*' is present, must not specify other api groups"))
	}
	if len(r.Resources) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("resources"), "resource rules must supply at least one resource"))
	} else if hasWildcardWithOthers(r.Resources, flowcontrolv1.ResourceAll) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("resources"), r.Resources, "if '*' is present, must not specify other resources"))
	}
	if len(r.Namespaces) == 0 && !r.ClusterScope {
		allErrs = append(allErrs, field.Required(fldPath.Child("namespaces"), "resource rules that are not cluster scoped must supply at least one namespace"))
	} else if hasWildcardWithOthers(r.Namespaces, flowcontrolv1.NamespaceEvery) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("namespaces"), r.Namespaces, "if '*' is present, must not specify other namespaces"))
	}
	for i, ns := range r.Namespaces {
		if ns == flowcontrolv1.NamespaceEvery {
			continue
		}
		for _, msg := range apimachineryvalidation.ValidateNamespaceName(ns, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("namespaces").Index(i), ns, msg))
		}
	}
	return allErrs
}

func validateNonResourcePolicyRule(r *flowcontrolv1.NonResourcePolicyRule, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(r.Verbs) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("verbs"), "verbs must contain at least one value"))
	} else if hasWildcardWithOthers(r.Verbs, flowcontrolv1.VerbAll) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("verbs"), r.Verbs, "if '*' is present, must not specify other verbs"))
	}
	if len(r.NonResourceURLs) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("nonResourceURLs"), "must contain at least one value"))
	} else if hasWildcardWithOthers(r.NonResourceURLs, flowcontrolv1.NonResourceAll) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("nonResourceURLs"), r.NonResourceURLs, "if '*' is present, must not specify other non-resource URLs"))
	}
	for i, u := range r.NonResourceURLs {
		p := fldPath.Child("nonResourceURLs").Index(i)
		switch {
		case u == flowcontrolv1.NonResourceAll:
		case u == "":
			allErrs = append(allErrs, field.Invalid(p, u, "must not be empty"))
		case !strings.HasPrefix(u, "/"):
			allErrs = append(allErrs, field.Invalid(p, u, "must start with slash"))
		case strings.Contains(u, "*") && !strings.HasSuffix(u, "/*"):
			allErrs = append(allErrs, field.Invalid(p, u, "wildcard can only do suffix glob matching"))
		}
	}
	return allErrs
}

func validateFlowSchemaStatus(status *flowcontrolv1.FlowSchemaStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, c := range status.Conditions {
		p := fldPath.Child("conditions").Index(i)
		if seen.Has(string(c.Type)) {
			allErrs = append(allErrs, field.Duplicate(p.Child("type"), c.Type))
		}
		seen.Insert(string(c.Type))
		if len(c.Type) == 0 {
			allErrs = append(allErrs, field.Required(p.Child("type"), "must not be empty"))
		}
		if !supportedConditionStatus.Has(string(c.Status)) {
			allErrs = append(allErrs, field.NotSupported(p.Child("status"), c.Status, sets.List(supportedConditionStatus)))
		}
	}
	return allErrs
}

// ValidatePriorityLevelConfiguration validates a PriorityLevelConfiguration.
func ValidatePriorityLevelConfiguration(pl *flowcontrolv1.PriorityLevelConfiguration) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&pl.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validatePLSpec(pl.Name, &pl.Spec, field.NewPath("spec"))...)
	allErrs = append(allErrs, validatePLStatus(&pl.Status, field.NewPath("status"))...)
	return allErrs
}

// ValidatePriorityLevelConfigurationUpdate validates a change of a
// PriorityLevelConfiguration.
func ValidatePriorityLevelConfigurationUpdate(pl, old *flowcontrolv1.PriorityLevelConfiguration) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&pl.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validatePLSpec(pl.Name, &pl.Spec, field.NewPath("spec"))...)
}

// ValidatePriorityLevelConfigurationStatusUpdate validates a change of the status.
func ValidatePriorityLevelConfigurationStatusUpdate(pl, old *flowcontrolv1.PriorityLevelConfiguration) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&pl.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validatePLStatus(&pl.Status, field.NewPath("status"))...)
}

func validatePLStatus(status *flowcontrolv1.PriorityLevelConfigurationStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, c := range status.Conditions {
		p := fldPath.Child("conditions").Index(i)
		if seen.Has(string(c.Type)) {
			allErrs = append(allErrs, field.Duplicate(p.Child("type"), c.Type))
		}
		seen.Insert(string(c.Type))
		if len(c.Type) == 0 {
			allErrs = append(allErrs, field.Required(p.Child("type"), "must not be empty"))
		}
	}
	return allErrs
}

func validatePLSpec(name string, spec *flowcontrolv1.PriorityLevelConfigurationSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if (name == flowcontrolv1.PriorityLevelConfigurationNameExempt) != (spec.Type == flowcontrolv1.PriorityLevelEnablementExempt) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("type"), spec.Type, "type must be 'Exempt' if and only if name is 'exempt'"))
	}
	switch spec.Type {
	case flowcontrolv1.PriorityLevelEnablementExempt:
		if spec.Limited != nil {
			allErrs = append(allErrs, field.Forbidden(fldPath.Child("limited"), "must be nil if the type is not Limited"))
		}
		if e := spec.Exempt; e != nil {
			if e.NominalConcurrencyShares != nil && *e.NominalConcurrencyShares < 0 {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("exempt", "nominalConcurrencyShares"), *e.NominalConcurrencyShares, "must be a non-negative integer"))
			}
			if e.LendablePercent != nil && (*e.LendablePercent < 0 || *e.LendablePercent > 100) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("exempt", "lendablePercent"), *e.LendablePercent, "must be between 0 and 100, inclusive"))
			}
		}
	case flowcontrolv1.PriorityLevelEnablementLimited:
		if spec.Exempt != nil {
			allErrs = append(allErrs, field.Forbidden(fldPath.Child("exempt"), "must be nil if the type is Limited"))
		}
		if spec.Limited == nil {
			allErrs = append(allErrs, field.Required(fldPath.Child("limited"), "must not be empty when type is Limited"))
		} else {
			allErrs = append(allErrs, validateLimited(name, spec.Limited, fldPath.Child("limited"))...)
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("type"), spec.Type, sets.List(supportedPLTypes)))
	}
	return allErrs
}

func validateLimited(name string, l *flowcontrolv1.LimitedPriorityLevelConfiguration, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if l.NominalConcurrencyShares != nil && *l.NominalConcurrencyShares < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("nominalConcurrencyShares"), *l.NominalConcurrencyShares, "must be a non-negative integer"))
	}
	if l.LendablePercent != nil && (*l.LendablePercent < 0 || *l.LendablePercent > 100) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("lendablePercent"), *l.LendablePercent, "must be between 0 and 100, inclusive"))
	}
	if l.BorrowingLimitPercent != nil && *l.BorrowingLimitPercent < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("borrowingLimitPercent"), *l.BorrowingLimitPercent, "if specified, must be a non-negative integer"))
	}
	lr := &l.LimitResponse
	lrPath := fldPath.Child("limitResponse")
	switch lr.Type {
	case flowcontrolv1.LimitResponseTypeReject:
		if lr.Queuing != nil {
			allErrs = append(allErrs, field.Forbidden(lrPath.Child("queuing"), "must be nil if limited.limitResponse.type is not Limited"))
		}
	case flowcontrolv1.LimitResponseTypeQueue:
		if lr.Queuing == nil {
			allErrs = append(allErrs, field.Required(lrPath.Child("queuing"), "must not be empty if limited.limitResponse.type is Limited"))
		} else {
			allErrs = append(allErrs, validateQueuing(lr.Queuing, lrPath.Child("queuing"))...)
		}
	default:
		allErrs = append(allErrs, field.NotSupported(lrPath.Child("type"), lr.Type, sets.List(supportedLimitResponseTypes)))
	}
	if name == flowcontrolv1.PriorityLevelConfigurationNameCatchAll && lr.Type != flowcontrolv1.LimitResponseTypeReject {
		allErrs = append(allErrs, field.Invalid(lrPath.Child("type"), lr.Type, "type must be 'Reject' if name is 'catch-all'"))
	}
	return allErrs
}

func validateQueuing(q *flowcontrolv1.QueuingConfiguration, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if q.QueueLengthLimit <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("queueLengthLimit"), q.QueueLengthLimit, "must be positive"))
	}
	if q.Queues <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("queues"), q.Queues, "must be positive"))
	} else if q.Queues == 1 {
		return allErrs // shuffle sharding is off: handSize is not used
	}
	if q.HandSize <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("handSize"), q.HandSize, "must be positive"))
	} else if q.HandSize > q.Queues {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("handSize"), q.HandSize, fmt.Sprintf("should not be greater than queues (%d)", q.Queues)))
	} else if bits := shufflesharding.RequiredEntropyBits(int(q.Queues), int(q.HandSize)); bits > shufflesharding.MaxHashBits {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("handSize"), q.HandSize, fmt.Sprintf("required entropy bits of deckSize %d and handSize %d should not be greater than %d", q.Queues, q.HandSize, shufflesharding.MaxHashBits)))
	}
	return allErrs
}
