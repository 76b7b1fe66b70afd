package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-dev/strata/nucleus/etcd"
)

// benchEtcdFloor starts an embedded etcd member configured as the nucleus'
// own (nucleus/etcd) in dataDir and measures Put latency at each
// concurrency: the floor under every write the nucleus makes. All clients
// share one etcd client, as the nucleus' storage does.
func benchEtcdFloor(ctx context.Context, c *config, dataDir string) ([]cell, error) {
	member, err := etcd.Start(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	defer member.Close()
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{member.ClientURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	defer client.Close()

	value := strings.Repeat("v", c.valueSize)
	if _, err := client.Put(ctx, "/bench/warmup", value); err != nil {
		return nil, fmt.Errorf("etcd put: %w", err)
	}
	var cells []cell
	for _, conc := range c.concurrency {
		workers := make([]worker, conc)
		for i := range workers {
			workers[i] = func(ctx context.Context, seq int) (time.Duration, error) {
				return timed(func() error {
					_, err := client.Put(ctx, fmt.Sprintf("/bench/%d/%08d", conc, seq), value)
					return err
				})
			}
		}
		s := measure(ctx, workers, 0, c.ops, c.cellLimit)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progressf("%-20s %s", fmt.Sprintf("etcd put ×%d", conc), s.summary())
		cells = append(cells, cell{kind: "etcd", op: "put", clients: conc, sample: s})
	}
	return cells, nil
}
