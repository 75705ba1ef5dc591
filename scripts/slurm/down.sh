#!/usr/bin/env bash
# Stops the one-node Slurm that scripts/slurm/up.sh started (its jobs
# included), by the daemons' pid files.
set -uo pipefail
for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
	[ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
done
echo "slurm: stopped"
