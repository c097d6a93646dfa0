# Sourced by the Slurm test: a one-node Slurm cluster (munged, slurmctld,
# slurmd) living entirely in a temporary directory, on free loopback ports,
# so a test can submit real job arrays without touching the machine's own
# configuration. Needs root (slurmd launches jobs) and Debian's slurm-wlm and
# munge.
#   mini_slurm_start DIR   start the daemons; exports SLURM_CONF
#   mini_slurm_stop DIR    cancel jobs, stop the daemons by their pid files

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mini_slurm_start() {
  local dir=$1 host
  host=$(hostname -s)
  mkdir -p "$dir"/{munge,state,spool,log}
  chmod 700 "$dir/munge"
  mungekey --create --keyfile "$dir/munge/munge.key"
  # --force: munged refuses directories that others can write to, and the
  # temporary directory's parent (/tmp) is one.
  munged --force --socket "$dir/munge/socket" --key-file "$dir/munge/munge.key" \
    --pid-file "$dir/munge/munged.pid" --log-file "$dir/log/munged.log" \
    --seed-file "$dir/munge/seed"
  cat >"$dir/slurm.conf" <<CONF
ClusterName=rmpsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=rmpsim Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -i
  slurmd
  # Ready when the node reports idle.
  local i
  for i in $(seq 60); do
    [[ $(sinfo -h -o %t 2>/dev/null) == idle ]] && return 0
    sleep 0.5
  done
  echo "mini-slurm: the node did not become idle; logs in $dir/log" >&2
  tail -n 20 "$dir"/log/*.log >&2 || true
  return 1
}

stop_by_pidfile() {
  local pidfile=$1 pid i
  [[ -s $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

mini_slurm_stop() {
  local dir=$1
  [[ -f $dir/slurm.conf ]] && SLURM_CONF=$dir/slurm.conf scancel --full --quiet --user "$(id -un)" 2>/dev/null || true
  stop_by_pidfile "$dir/slurmd.pid"
  stop_by_pidfile "$dir/slurmctld.pid"
  stop_by_pidfile "$dir/munge/munged.pid"
}
