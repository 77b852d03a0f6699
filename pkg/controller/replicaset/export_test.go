package replicaset

import (
	"github.com/herd-project/herd/pkg/controller/internal/podcontrol"
	"github.com/herd-project/herd/pkg/controller/internal/replication"
)

const ExpectationsTimeoutForTest = podcontrol.ExpectationsTimeout

func slowStart(n int, fn func() error) (int, error) {
	return replication.SlowStartBatch(n, SlowStartInitialBatchSize, fn)
}
