package volumes

import (
	"os"
	"syscall"
)

// umask is the process' umask.
func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
