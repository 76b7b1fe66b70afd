// Command pause is the process of Strata's pause image
// (strata.local/pause:3.10): the first process of every pod sandbox. It holds
// the pod's namespaces open, reaps the zombies of a shared PID namespace, and
// exits 0 on SIGTERM or SIGINT.
//
// Build it static: CGO_ENABLED=0 go build -trimpath -o pause ./hack/tools/pause
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child; orphans of the pod's other containers
// become its children when the PID namespace is shared.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
