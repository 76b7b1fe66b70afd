package stats

import "syscall"

// statfs reports the filesystem holding path.
func statfs(path string) (Filesystem, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return Filesystem{}, err
	}
	bsize := uint64(st.Bsize)
	return Filesystem{
		Capacity:   st.Blocks * bsize,
		Free:       st.Bfree * bsize,
		Available:  st.Bavail * bsize,
		Inodes:     st.Files,
		InodesFree: st.Ffree,
	}, nil
}
