package etcd

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger is etcd's logger: JSON on stderr at level error, as etcd's own
// default with --log-level=error, without the errors every clean shutdown
// logs (its listeners report "use of closed network connection" and
// "server closed" when Close stops them).
func newLogger() (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	cfg.Sampling = nil
	lg, err := cfg.Build()
	if err != nil {
		return nil, err
	}
	return lg.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return shutdownFilter{c} })), nil
}

// shutdownFilter drops log entries whose error is a listener being closed.
type shutdownFilter struct{ zapcore.Core }

func (f shutdownFilter) With(fields []zapcore.Field) zapcore.Core {
	return shutdownFilter{f.Core.With(fields)}
}

func (f shutdownFilter) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if f.Enabled(e.Level) {
		return ce.AddCore(e, f)
	}
	return ce
}

func (f shutdownFilter) Write(e zapcore.Entry, fields []zapcore.Field) error {
	for _, field := range fields {
		if err, ok := field.Interface.(error); ok && isClosing(err) {
			return nil
		}
	}
	return f.Core.Write(e, fields)
}

// isClosing reports whether err only says a server or listener was closed.
func isClosing(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) ||
		strings.Contains(err.Error(), "use of closed network connection") || strings.Contains(err.Error(), "server closed")
}
