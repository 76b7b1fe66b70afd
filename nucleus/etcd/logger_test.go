package etcd

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestShutdownFilterDropsClosedListenerErrors(t *testing.T) {
	core, logs := observer.New(zapcore.ErrorLevel)
	lg := zap.New(shutdownFilter{core})
	lg.Error("setting up serving from embedded etcd failed.", zap.Error(fmt.Errorf("accept tcp 127.0.0.1:1: %w", net.ErrClosed)))
	lg.Error("setting up serving from embedded etcd failed.", zap.Error(errors.New("mux: server closed")))
	lg.With(zap.String("member", "strata")).Error("serving failed", zap.Error(errors.New("disk full")))
	lg.Info("not at error level")
	if logs.Len() != 1 || logs.All()[0].Message != "serving failed" {
		t.Errorf("kept %d entries %v, want only the real error", logs.Len(), logs.All())
	}
}
