package node

import "syscall"

// StatFilesystem reports the filesystem holding path.
func StatFilesystem(path string) (Filesystem, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return Filesystem{}, err
	}
	bsize := int64(st.Bsize)
	return Filesystem{
		Capacity:   int64(st.Blocks) * bsize,
		Free:       int64(st.Bfree) * bsize,
		Available:  int64(st.Bavail) * bsize,
		Inodes:     int64(st.Files),
		InodesFree: int64(st.Ffree),
	}, nil
}
