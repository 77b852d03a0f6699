package flowcontrol

import (
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
)

// Kubernetes' defaults for flowcontrol/v1.
const (
	defaultMatchingPrecedence       = 1000
	defaultNominalConcurrencyShares = 30
	defaultQueues                   = 64
	defaultHandSize                 = 8
	defaultQueueLengthLimit         = 50
)

// SetDefaultsFlowSchema defaults matchingPrecedence to 1000.
func SetDefaultsFlowSchema(fs *flowcontrolv1.FlowSchema) {
	if fs.Spec.MatchingPrecedence == 0 {
		fs.Spec.MatchingPrecedence = defaultMatchingPrecedence
	}
}

// SetDefaultsPriorityLevelConfiguration defaults the shares, lendable
// percent and queuing parameters.
func SetDefaultsPriorityLevelConfiguration(pl *flowcontrolv1.PriorityLevelConfiguration) {
	if e := pl.Spec.Exempt; e != nil {
		if e.NominalConcurrencyShares == nil {
			e.NominalConcurrencyShares = int32Ptr(0)
		}
		if e.LendablePercent == nil {
			e.LendablePercent = int32Ptr(0)
		}
	}
	if l := pl.Spec.Limited; l != nil {
		if l.NominalConcurrencyShares == nil {
			l.NominalConcurrencyShares = int32Ptr(defaultNominalConcurrencyShares)
		}
		if l.LendablePercent == nil {
			l.LendablePercent = int32Ptr(0)
		}
		if q := l.LimitResponse.Queuing; q != nil {
			if q.Queues == 0 {
				q.Queues = defaultQueues
			}
			if q.HandSize == 0 {
				q.HandSize = defaultHandSize
			}
			if q.QueueLengthLimit == 0 {
				q.QueueLengthLimit = defaultQueueLengthLimit
			}
		}
	}
}

func int32Ptr(v int32) *int32 { return &v }
