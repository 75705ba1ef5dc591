#!/usr/bin/env bash
# Starts a one-node Slurm on this machine's loopback, for CI and for trying
# `bench run --launcher slurm` on a laptop: Debian's slurmctld, slurmd,
# slurm-client and munge (22.05 on bookworm), without systemd. Run as root.
# Idempotent: what is installed, configured or running already is kept, so
# a second run takes a few seconds. scripts/slurm/down.sh stops it.
set -euo pipefail

conf=/etc/slurm/slurm.conf
log=/var/log/slurm

exec 9>/run/bench-slurm-up.lock
flock 9 # two test runs bringing Slurm up at once

# running NAME: a live (not zombie) process of that name.
running() {
	local pid
	for pid in $(pgrep -x "$1"); do
		[ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" != Z ] && return 0
	done
	return 1
}

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
	echo "slurm: installing slurmctld slurmd slurm-client munge"
	# No service may start during the install: there is no systemd, and
	# the daemons are started below with this configuration.
	created_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		created_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
	[ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
fi

# munge: a key, then the daemon, as the munge user.
if [ ! -s /etc/munge/munge.key ]; then
	mkdir -p /etc/munge
	dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/log/munge /var/lib/munge
chmod 400 /etc/munge/munge.key
if ! running munged; then
	runuser -u munge -- /usr/sbin/munged 9>&-
fi

# slurm.conf for this machine: every CPU, most of the memory (so that
# jobs share the node instead of queueing behind one another).
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$log"
want=$(
	cat <<CONF
# Written by bench's scripts/slurm/up.sh: one node on loopback.
ClusterName=bench
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$log/slurmctld.log
SlurmdLogFile=$log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((mem / cpus))
MinJobAge=3600
KillWait=30
EnforcePartLimits=ALL
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$log/jobcomp.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
)
changed=
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
	printf '%s\n' "$want" >"$conf"
	changed=1
fi

if [ -n "$changed" ] && running slurmctld; then
	scontrol reconfigure || true
fi
# 9>&-: the daemons must not inherit the lock.
running slurmctld || slurmctld 9>&-
running slurmd || slurmd -N localhost 9>&-

# Wait for the node to take jobs; a node that went down (a killed slurmd)
# is put back.
for _ in $(seq 60); do
	state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
	case "$state" in
	idle* | mixed* | allocated*)
		echo "slurm: up ($state, $cpus CPUs, ${mem} MB)"
		exit 0
		;;
	down* | drain*)
		scontrol update nodename=localhost state=resume 2>/dev/null || true
		;;
	esac
	sleep 1
done
echo "slurm: the node did not become idle; see $log/slurmctld.log and $log/slurmd.log" >&2
sinfo >&2 || true
exit 1
