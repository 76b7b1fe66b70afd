package volumes

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestCheckHostPathType(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link-to-dir")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name    string
		path    string
		typ     corev1.HostPathType
		wantErr string
	}{
		{name: "unset checks nothing", path: missing, typ: corev1.HostPathUnset},
		{name: "directory", path: dir, typ: corev1.HostPathDirectory},
		{name: "directory through a symlink", path: link, typ: corev1.HostPathDirectory},
		{name: "file is not a directory", path: file, typ: corev1.HostPathDirectory, wantErr: "hostPath type check failed: " + file + " is not a directory"},
		{name: "missing directory", path: missing, typ: corev1.HostPathDirectory, wantErr: "hostPath type check failed: " + missing + " is not a directory"},
		{name: "file", path: file, typ: corev1.HostPathFile},
		{name: "directory is not a file", path: dir, typ: corev1.HostPathFile, wantErr: "hostPath type check failed: " + dir + " is not a file"},
		{name: "socket is not a file", path: sock, typ: corev1.HostPathFile, wantErr: "hostPath type check failed: " + sock + " is not a file"},
		{name: "FileOrCreate on a directory", path: dir, typ: corev1.HostPathFileOrCreate, wantErr: "hostPath type check failed: " + dir + " is not a file"},
		{name: "DirectoryOrCreate on a file", path: file, typ: corev1.HostPathDirectoryOrCreate, wantErr: "hostPath type check failed: " + file + " is not a directory"},
		{name: "socket", path: sock, typ: corev1.HostPathSocket},
		{name: "file is not a socket", path: file, typ: corev1.HostPathSocket, wantErr: "hostPath type check failed: " + file + " is not a socket file"},
		{name: "character device", path: "/dev/null", typ: corev1.HostPathCharDev},
		{name: "file is not a character device", path: file, typ: corev1.HostPathCharDev, wantErr: "hostPath type check failed: " + file + " is not a character device"},
		{name: "character device is not a block device", path: "/dev/null", typ: corev1.HostPathBlockDev, wantErr: "hostPath type check failed: /dev/null is not a block device"},
		{name: "invalid type", path: dir, typ: "Pipe", wantErr: "Pipe is an invalid volume type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkHostPathType(tt.path, &tt.typ)
			if d := cmp.Diff(tt.wantErr, errString(err)); d != "" {
				t.Errorf("error (-want +got):\n%s", d)
			}
		})
	}
	if err := checkHostPathType(missing, nil); err != nil {
		t.Errorf("no type: %v", err)
	}
}

func TestCheckHostPathTypeCreates(t *testing.T) {
	dir := t.TempDir()
	newDir := filepath.Join(dir, "a", "b")
	if err := checkHostPathType(newDir, ptrTo(corev1.HostPathDirectoryOrCreate)); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(newDir); err != nil || !info.IsDir() || info.Mode().Perm() != 0o755&^umask() {
		t.Errorf("DirectoryOrCreate made %v, %v", info, err)
	}
	newFile := filepath.Join(dir, "a", "f")
	if err := checkHostPathType(newFile, ptrTo(corev1.HostPathFileOrCreate)); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(newFile); err != nil || !info.Mode().IsRegular() || info.Size() != 0 {
		t.Errorf("FileOrCreate made %v, %v", info, err)
	}
	// FileOrCreate does not create the parent directories.
	err := checkHostPathType(filepath.Join(dir, "x", "f"), ptrTo(corev1.HostPathFileOrCreate))
	if !os.IsNotExist(err) {
		t.Errorf("FileOrCreate in a missing directory: %v, want not found", err)
	}
}

func ptrTo[T any](v T) *T { return &v }
