#!/usr/bin/env bash
# Installs the Debian packages the real kubelet needs, when they are missing:
#   containerd, runc                  the container runtime (CRI plugin built in)
#   containernetworking-plugins       CNI plugins: bridge, host-local, portmap, loopback
#   iptables                          used by the bridge plugin's ipMasq and by portmap
#   busybox-static                    the test image's only binary (make images)
#   iproute2                          ip, to remove the pod bridge on teardown
#   conntrack                         conntrack, for `strata proxy` to clear stale UDP flows
#
# Idempotent: does nothing when everything is present. Needs root (or sudo).
# Used by the bring-up command and by .ci/run.
set -euo pipefail

PACKAGES=(containerd runc containernetworking-plugins iptables busybox-static iproute2 conntrack)

# Debian puts the CNI plugins in /usr/lib/cni and the static busybox in /bin.
CNI_BIN_DIR=${CNI_BIN_DIR:-/usr/lib/cni}
BUSYBOX=${BUSYBOX:-/bin/busybox}

log() { printf '==> %s\n' "$*"; }

missing=()
command -v containerd >/dev/null 2>&1 || missing+=(containerd)
command -v ctr >/dev/null 2>&1 || missing+=(containerd)
command -v runc >/dev/null 2>&1 || missing+=(runc)
for plugin in bridge host-local portmap loopback; do
	[[ -x "$CNI_BIN_DIR/$plugin" ]] || { missing+=(containernetworking-plugins); break; }
done
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v conntrack >/dev/null 2>&1 || missing+=(conntrack)
[[ -x "$BUSYBOX" ]] || missing+=(busybox-static)

if ((${#missing[@]} == 0)); then
	log "Debian packages present: ${PACKAGES[*]}"
	exit 0
fi
# Deduplicate, keep order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')

if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=(sudo -n)
	else
		echo "error: missing Debian packages: ${missing[*]}" >&2
		echo "error: installing them needs root; run: sudo $0" >&2
		exit 1
	fi
else
	SUDO=()
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "error: missing packages ${missing[*]} and no apt-get: install them with your distribution's package manager" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg (another session's install) instead of failing.
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
log "Installing missing Debian packages: ${missing[*]}"
log "apt-get update"
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq
log "apt-get install ${missing[*]}"
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}"

# The package's own containerd service (if an init system started it) uses
# /run/containerd and /var/lib/containerd; Strata's containerd has its own
# root, state and socket under the data dir, so the two do not meet.
for bin in containerd ctr runc iptables ip conntrack; do
	command -v "$bin" >/dev/null 2>&1 || { echo "error: $bin still missing after install" >&2; exit 1; }
done
for plugin in bridge host-local portmap loopback; do
	[[ -x "$CNI_BIN_DIR/$plugin" ]] || { echo "error: CNI plugin $CNI_BIN_DIR/$plugin still missing after install" >&2; exit 1; }
done
[[ -x "$BUSYBOX" ]] || { echo "error: $BUSYBOX still missing after install" >&2; exit 1; }
log "Installed: $(containerd --version)"
