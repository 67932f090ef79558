#!/usr/bin/env bash
# Shards on a real scheduler: bring up a one-node Slurm cluster on this machine (munge + slurmctld +
# slurmd, all state in a temporary folder), profile a folder as a 4-task job array
# (`sbatch --array=0-3 --wait`; each task finds its shard in SLURM_ARRAY_TASK_ID/COUNT), merge the
# shards that exist in a dependent Slurm job, and check the merged results equal a single run of
# the same folder: the same per-text records and dataset statistics equal to 1e-12.
#
#   npm run test:cluster            (or: bash scripts/test-cluster.sh)
#
# Needs root to install Debian's slurm-wlm and munge when they are missing (apt-get). Every wait
# has a timeout; the daemons it started are stopped on exit, whatever happened. Exit 0 on success,
# non-zero with a line starting `test-cluster: FAIL:` otherwise.
#
# Environment: LP_CLUSTER_KEEP=1 keeps the work folder; LP_CLUSTER_TEXTS (default 16) texts;
# LP_CLUSTER_JOB_TIMEOUT (default 600) seconds for the job array.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEXTS_N=${LP_CLUSTER_TEXTS:-16}
JOB_TIMEOUT=${LP_CLUSTER_JOB_TIMEOUT:-600}
SHARDS=4
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lp-cluster.XXXXXX")
chmod 755 "$WORK"
PIDS=()          # daemons this script started, stopped in reverse order on exit
JOBIDS=()        # Slurm jobs to cancel if we stop early
OK=0
START=$SECONDS

say() { printf 'test-cluster: [%3ds] %s\n' "$((SECONDS - START))" "$*" >&2; }
fail() {
  printf 'test-cluster: FAIL: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  set +e
  if ((${#JOBIDS[@]})) && [[ $OK != 1 ]] && command -v scancel >/dev/null; then
    timeout 10 scancel "${JOBIDS[@]}" >/dev/null 2>&1
  fi
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ $OK != 1 ]]; then
    for f in "$WORK"/log/*.log "$WORK"/out/*.out "$WORK"/out/*.err; do
      [[ -s $f ]] || continue
      printf '\n--- last lines of %s ---\n' "$f" >&2
      tail -n 15 "$f" >&2
    done
    printf '\ntest-cluster: logs and files kept in %s\n' "$WORK" >&2
    ((rc == 0)) && rc=1
  elif [[ ${LP_CLUSTER_KEEP:-0} == 1 ]]; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM HUP

# wait_for <seconds> <description> <command...>: poll until the command succeeds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${limit}s waiting for $what"
    sleep 0.5
  done
}

alive() { kill -0 "$1" 2>/dev/null || fail "$2 exited at start (see its log below)"; }

# --- 1. Slurm and munge ----------------------------------------------------------------------
need_install=0
for c in slurmctld slurmd sbatch sinfo scancel munged munge; do
  command -v "$c" >/dev/null || need_install=1
done
if ((need_install)); then
  [[ $(id -u) == 0 ]] || fail "slurm-wlm and munge are not installed and this is not root: install them (apt-get install -y slurm-wlm munge) and run again"
  command -v apt-get >/dev/null || fail "slurm-wlm and munge are not installed and there is no apt-get"
  say "installing slurm-wlm and munge (apt-get)"
  timeout 600 apt-get update >"$WORK/apt-update.log" 2>&1 || { tail -n 20 "$WORK/apt-update.log" >&2; fail "apt-get update failed or timed out"; }
  DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y slurm-wlm munge >"$WORK/apt-install.log" 2>&1 || { tail -n 20 "$WORK/apt-install.log" >&2; fail "apt-get install -y slurm-wlm munge failed or timed out"; }
  for c in slurmctld slurmd sbatch sinfo scancel munged munge; do
    command -v "$c" >/dev/null || fail "$c is still missing after installing slurm-wlm and munge"
  done
fi
command -v node >/dev/null || fail "node is not on PATH"
[[ $(id -u) == 0 ]] || fail "slurmd must run as root here (it starts jobs as their owner); run as root"
say "$(slurmctld -V 2>&1 | head -n1), munge $(munged -V 2>&1 | head -n1 | awk '{print $1}')"

# --- 2. The CLI, a tiny model, a folder of texts ---------------------------------------------
cd "$ROOT"
if [[ ! -f dist/cli.js ]]; then
  say "building the CLI (npm run build)"
  timeout 300 npm run build >"$WORK/build.log" 2>&1 || { tail -n 20 "$WORK/build.log" >&2; fail "npm run build failed"; }
fi
NODE=$(command -v node)
CLI="$ROOT/bin/layer-profiler.js"
mkdir -p "$WORK/texts/sub" "$WORK/out" "$WORK/log" "$WORK/state" "$WORK/spool" "$WORK/munge"
say "generating a tiny model"
timeout 300 npx --no-install tsx test/modelgen/cli.ts optimum-llama "$WORK/model" >"$WORK/log/modelgen.log" 2>&1 || fail "could not generate the test model (npx tsx test/modelgen/cli.ts optimum-llama)"
for ((i = 0; i < TEXTS_N; i++)); do
  if ((i % 2)); then f="$WORK/texts/t$i.py"; else f="$WORK/texts/sub/t$i.txt"; fi
  printf 'def f%d(x):\n    # text number %d of the cluster test\n    return x * %d + %d\n' "$i" "$i" "$i" $((i % 7)) >"$f"
  for ((j = 0; j < i % 4; j++)); do printf 'print(f%d(%d))\n' "$i" "$j" >>"$f"; done
done

# --- 3. munge and a one-node Slurm cluster -----------------------------------------------------
free_port() { "$NODE" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
[[ $CTLD_PORT != "$SLURMD_PORT" ]] || SLURMD_PORT=$(free_port)
HOST=$(hostname -s)
NCPU=$(nproc)

say "starting munged"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$WORK/munge/munge.key"
chmod 700 "$WORK/munge"
MUNGE_SOCKET="$WORK/munge/munge.socket"
munged --foreground --force --key-file="$WORK/munge/munge.key" --socket="$MUNGE_SOCKET" \
  --pid-file="$WORK/munge/munged.pid" --seed-file="$WORK/munge/munged.seed" --log-file="$WORK/log/munged.log" \
  >>"$WORK/log/munged.log" 2>&1 &
PIDS+=($!)
sleep 0.3; alive "${PIDS[-1]}" munged
wait_for 30 "munged to answer" bash -c "munge -n --socket='$MUNGE_SOCKET' | unmunge --socket='$MUNGE_SOCKET'"

export SLURM_CONF="$WORK/slurm.conf"
cat >"$SLURM_CONF" <<EOF
# One node, this machine, everything under $WORK (written by scripts/test-cluster.sh).
ClusterName=lpcluster
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$WORK/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
Waittime=0
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NCPU State=UNKNOWN
PartitionName=lp Nodes=$HOST Default=YES MaxTime=60 State=UP
EOF
: >"$WORK/plugstack.conf"

say "starting slurmctld (port $CTLD_PORT) and slurmd (port $SLURMD_PORT), $NCPU CPUs"
slurmctld -D -i -f "$SLURM_CONF" >>"$WORK/log/slurmctld.stderr.log" 2>&1 &
PIDS+=($!)
sleep 0.5; alive "${PIDS[-1]}" slurmctld
wait_for 60 "slurmctld to answer (scontrol ping)" bash -c "scontrol ping | grep -q 'is UP'"
slurmd -D -f "$SLURM_CONF" -N "$HOST" >>"$WORK/log/slurmd.stderr.log" 2>&1 &
PIDS+=($!)
sleep 0.5; alive "${PIDS[-1]}" slurmd
wait_for 90 "node $HOST to be idle in sinfo" bash -c "sinfo -h -n '$HOST' -o '%t' | grep -qx idle"
say "cluster up: $(sinfo -h -o '%P %D %t %c CPUs' | head -n1)"

# --- 4. The shards as a Slurm job array --------------------------------------------------------
cat >"$WORK/shard-job.sh" <<EOF
#!/bin/bash
# One array task: the CLI takes its shard from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT.
set -u
id=\$SLURM_ARRAY_TASK_ID
echo "array task \$id of \$SLURM_ARRAY_TASK_COUNT (min \${SLURM_ARRAY_TASK_MIN:-0}) on \$(hostname)"
"$NODE" "$CLI" profile --model "$WORK/model" --dataset "texts=$WORK/texts" --json "$WORK/out/shard-\$id.json" --no-cache --threads 1 2>"$WORK/out/shard-\$id.err"
rc=\$?
cat "$WORK/out/shard-\$id.err" >&2
# A shard whose hash range holds no text exits 1 and writes nothing: not a failure of the array.
if [ \$rc -eq 1 ] && grep -q 'No text was profiled' "$WORK/out/shard-\$id.err"; then echo "shard \$id: empty"; exit 0; fi
exit \$rc
EOF
chmod +x "$WORK/shard-job.sh"

say "sbatch --array=0-$((SHARDS - 1)) --wait"
t0=$SECONDS
set +e
ARRAY_OUT=$(timeout "$JOB_TIMEOUT" sbatch --parsable --wait --array=0-$((SHARDS - 1)) --job-name=lp-shards \
  --ntasks=1 --cpus-per-task=1 --time=10 --chdir="$WORK" --output="$WORK/out/task-%a.out" "$WORK/shard-job.sh" 2>"$WORK/log/sbatch-array.err")
rc=$?
set -e
ARRAY_JOB=${ARRAY_OUT%%;*}
ARRAY_JOB=${ARRAY_JOB//[^0-9]/}
[[ -n $ARRAY_JOB ]] && JOBIDS+=("$ARRAY_JOB")
((rc != 124)) || fail "the job array did not finish within ${JOB_TIMEOUT}s"
((rc == 0)) || fail "the job array failed (sbatch --wait exit $rc): $(tr '\n' ' ' <"$WORK/log/sbatch-array.err")"
say "job array $ARRAY_JOB done in $((SECONDS - t0))s"
for ((k = 0; k < SHARDS; k++)); do
  [[ -f $WORK/out/task-$k.out ]] || fail "array task $k left no output: did it run?"
  grep -q "array task $k of $SHARDS" "$WORK/out/task-$k.out" || fail "array task $k did not see SLURM_ARRAY_TASK_ID=$k / SLURM_ARRAY_TASK_COUNT=$SHARDS"
  grep -q "shard $((k + 1)) of $SHARDS" "$WORK/out/shard-$k.err" || fail "array task $k: the CLI did not take shard $((k + 1))/$SHARDS from the environment"
done
shopt -s nullglob
shard_files=("$WORK"/out/shard-*.json)
shopt -u nullglob
((${#shard_files[@]})) || fail "no shard wrote results"
say "${#shard_files[@]} of $SHARDS shards hold texts: ${shard_files[*]##*/}"

# --- 5. The merge step: a Slurm job after the array, merging the shard files that exist -------
cat >"$WORK/merge-job.sh" <<EOF
#!/bin/bash
set -u
shopt -s nullglob
files=("$WORK"/out/shard-*.json)
[ \${#files[@]} -gt 0 ] || { echo "no shard results to merge" >&2; exit 1; }
exec "$NODE" "$CLI" merge "\${files[@]}" --json "$WORK/out/merged.json"
EOF
chmod +x "$WORK/merge-job.sh"
say "merge job (sbatch --dependency=afterok:$ARRAY_JOB --wait)"
set +e
timeout 300 sbatch --parsable --wait --dependency="afterok:$ARRAY_JOB" --job-name=lp-merge --ntasks=1 --time=5 \
  --chdir="$WORK" --output="$WORK/out/merge.out" "$WORK/merge-job.sh" >"$WORK/log/sbatch-merge.out" 2>&1
rc=$?
set -e
MERGE_JOB=$(head -n1 "$WORK/log/sbatch-merge.out" | tr -dc 0-9)
[[ -n $MERGE_JOB ]] && JOBIDS+=("$MERGE_JOB")
((rc != 124)) || fail "the merge job did not finish within 300s"
((rc == 0)) || fail "the merge job failed (exit $rc): $(tail -n 5 "$WORK/out/merge.out" 2>/dev/null | tr '\n' ' ')"
[[ -s $WORK/out/merged.json ]] || fail "the merge job wrote no merged.json"

# --- 6. A single run of the same folder, and the comparison ------------------------------------
say "single run of the whole folder"
timeout 300 "$NODE" "$CLI" profile --model "$WORK/model" --dataset "texts=$WORK/texts" --json "$WORK/out/single.json" \
  --no-cache --threads 1 --quiet >"$WORK/log/single.out" 2>"$WORK/log/single.err" || fail "the single run failed: $(tail -n 3 "$WORK/log/single.err" | tr '\n' ' ')"

cat >"$WORK/compare.cjs" <<'EOF'
// merged.json must be single.json: the same per-text records (sorted by path), and every number of
// the dataset statistics equal within 1e-12 (relative; 1e-15 absolute near zero).
const fs = require('node:fs');
const { isDeepStrictEqual } = require('node:util');
const [singleFile, mergedFile, expectedTexts] = process.argv.slice(2);
const single = JSON.parse(fs.readFileSync(singleFile, 'utf8'));
const merged = JSON.parse(fs.readFileSync(mergedFile, 'utf8'));
const problems = [];
let maxRel = 0;
let compared = 0;
function close(a, b, where) {
  if (typeof a === 'number' && typeof b === 'number') {
    compared++;
    const diff = Math.abs(a - b);
    const rel = diff === 0 ? 0 : diff / Math.max(Math.abs(a), Math.abs(b));
    if (diff > 1e-12 * Math.max(Math.abs(a), Math.abs(b)) + 1e-15) problems.push(`${where}: ${a} (single) vs ${b} (merged)`);
    else maxRel = Math.max(maxRel, Math.abs(a) > 1e-9 ? rel : 0);
    return;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return void problems.push(`${where}: length ${a?.length} vs ${b?.length}`);
    a.forEach((x, i) => close(x, b[i], `${where}[${i}]`));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) close(a[k], b[k], `${where}.${k}`);
    return;
  }
  if (a !== b) problems.push(`${where}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
}
const byPath = (r) => [...r].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
if (single.datasets.length !== merged.datasets.length) problems.push(`datasets: ${single.datasets.length} vs ${merged.datasets.length}`);
for (const a of single.datasets) {
  const b = merged.datasets.find((d) => d.name === a.name);
  if (!b) { problems.push(`dataset ${a.name} missing from the merged results`); continue; }
  if (Number(expectedTexts) && a.texts !== Number(expectedTexts)) problems.push(`${a.name}: the single run profiled ${a.texts} texts, expected ${expectedTexts}`);
  for (const k of ['texts', 'tokens']) if (a[k] !== b[k]) problems.push(`${a.name}.${k}: ${a[k]} vs ${b[k]}`);
  const ra = byPath(a.records), rb = byPath(b.records);
  if (ra.length !== rb.length) problems.push(`${a.name}: ${ra.length} records vs ${rb.length}`);
  ra.forEach((r, i) => { if (!isDeepStrictEqual(r, rb[i])) problems.push(`${a.name}: record ${r.path} differs from the merged one (${rb[i]?.path})`); });
  close(a.moments, b.moments, `${a.name}.moments`);
  close(a.layers, b.layers, `${a.name}.layers`);
}
if (problems.length) {
  console.error(`merged != single (${problems.length} differences):\n  ` + problems.slice(0, 20).join('\n  '));
  process.exit(1);
}
const d = single.datasets[0];
console.log(`merged == single: ${d.texts} texts, ${d.tokens} tokens, ${d.records.length} records identical; ${compared} statistics, largest relative difference ${maxRel.toExponential(2)}`);
EOF
say "comparing merged.json with single.json"
summary=$(timeout 60 "$NODE" "$WORK/compare.cjs" "$WORK/out/single.json" "$WORK/out/merged.json" "$TEXTS_N" 2>"$WORK/log/compare.err") \
  || fail "$(cat "$WORK/log/compare.err")"
say "$summary"
OK=1
say "PASS: ${#shard_files[@]}-file merge of a $SHARDS-task Slurm job array equals the single run (total $((SECONDS - START))s)"
