#!/usr/bin/env bash
# ecs-caretaker docker cleanup for Amazon ECS container instances (EC2 launch type).
#
# Run by SSM Run Command through the document that infra/ssm-document.ts builds;
# the document prepends `export CC_...=` lines that carry its parameters. It can
# also be run by hand as root: `CC_DRY_RUN=true bash docker-cleanup.sh`.
#
# What it does, in order, all before one deadline (CC_DEADLINE_SECONDS):
#   - measures free space: the devicemapper thin pool (lvs, else `docker info`),
#     or the filesystem of the Docker root dir (df) for every other driver;
#   - builds the protected set from the ECS agent introspection API (the
#     containers of every task the agent knows, their task ARNs, the agent's own
#     container), after checking the answer's structure with jq or python3, and
#     stops, without removing anything, when that API fails or the answer is
#     not exactly the expected shape;
#   - removes exited and dead containers that are not protected, finished more
#     than CC_GRACE_SECONDS ago and, in scope `ecs` (the default), carry the ECS
#     agent's labels (task ARN, container name, cluster). `docker rm -v` only when
#     every volume the container mounts is anonymous, of the local driver, and
#     mounted by no other container; plain `docker rm` otherwise. A dead one is
#     retried once with -f. Then dangling anonymous volumes of the local driver;
#   - on devicemapper, trims the thin devices of running containers with fstrim,
#     one at a time, at idle I/O priority, within a time budget;
#   - measures again and prints one JSON line on stdout.
# Images are left to the ECS agent's own image cleanup. Named volumes, bind
# mounts, running/created/paused containers and the agent are never removed.
#
# Inputs (environment):
#   CC_DRY_RUN            true|false       report what would be removed (names too), remove and trim nothing (false)
#   CC_SCOPE              ecs|all          ecs: only containers with the ECS agent's labels; all: any container (ecs)
#   CC_DEADLINE_SECONDS   30..86400        the whole run ends by then, with status "deadline" if work was left (3600)
#   CC_GRACE_SECONDS      0..2592000       keep containers that finished more recently than this (3600)
#   CC_FSTRIM             auto|off|force   auto: trim only on devicemapper; force: whatever the driver (auto)
#   CC_MIN_FREE_PERCENT   0..99            exit 13 when free space is still below this after cleanup (10)
#   CC_LOCK_FILE          absolute path    (/var/run/ecs-caretaker-cleanup.lock)
#   CC_INTROSPECTION_URL  ECS agent tasks  (http://localhost:51678/v1/tasks)
#   CC_DOCKER_TIMEOUT     1..3600 s        optional cap on any one docker or curl call (none: each call may use
#                                          all the time left before the deadline, and never more)
#   CC_FSTRIM_BUDGET      0..86400 s       time for all fstrim runs together (300)
#   CC_JSON_TOOL          auto|jq|python3  what checks the introspection answer (auto: jq, else python3)
#   CC_INSTANCE_ID        instance id for the report; else IMDSv2, else hostname
#   CC_IMDS_URL           (http://169.254.169.254)
#
# Exit codes:
#   0    done
#   1    unexpected internal error (the JSON line says where)
#   2    bad input value
#   10   Docker is down, failed to list, listed rows that do not parse, or outlasted CC_DOCKER_TIMEOUT; nothing more was removed
#   11   ECS agent introspection unavailable or its answer malformed; nothing was removed
#   12   at least one container, volume, volume listing, docker system df or fstrim operation failed (fstrim missing too)
#   13   free space still below CC_MIN_FREE_PERCENT after cleanup (wins over 12)
#   14   another run holds the lock; this one did nothing
#   15   the deadline came first: the work in flight was killed, nothing more was started
#   16   free space could not be measured after cleanup (wins over 12; 13 cannot be judged)
#   129/130/143  stopped by SIGHUP/SIGINT/SIGTERM (the work in flight is killed)
#
# Output: exactly one line of JSON on stdout, at most 2,000 characters, whatever
# happens (an EXIT trap prints it); logs go to stderr. The bound keeps the whole
# report inside the plugin output that ListCommandInvocations returns
# (CommandPlugin.Output: "Maximum length of 2500",
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CommandPlugin.html)
# and far inside GetCommandInvocation's StandardOutputContent ("The first 24,000
# characters written by the plugin to stdout",
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html).
#
# SSM substitutes every double-brace expression in a document, so this file must
# never contain two opening braces in a row: Go templates for docker --format are
# assembled from $LB and $RB below.
#
# Written for bash 4.2 (Amazon Linux 2): no empty "${array[@]}" under set -u,
# no namerefs, no ${var@Q}, no negative subscripts, no wait -n, no mapfile -d,
# no EPOCHSECONDS.

set -Eeuo pipefail
export LC_ALL=C TZ=UTC

# Everything but the report goes to stderr, so that no stray output from a
# command can break the one-line contract.
exec 3>&1 1>&2

readonly EX_OK=0 EX_INTERNAL=1 EX_USAGE=2 EX_DOCKER=10 EX_INTROSPECTION=11
readonly EX_CLEANUP=12 EX_LOW_SPACE=13 EX_LOCKED=14 EX_DEADLINE=15 EX_UNMEASURED=16
readonly MAX_LINE=2000 MAX_ERROR_MESSAGES=5 MAX_ERROR_LENGTH=200
readonly INSPECT_BATCH=200 RM_BATCH=25
# No call is started with less time than this left before the deadline: it
# could not finish, and the report still has to be written.
readonly MIN_CALL_SECONDS=2
readonly LB='{''{' RB='}''}' TAB=$'\t'
readonly ARN_RE='^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task/[A-Za-z0-9._/-]+$'
readonly STATES_RE='^(created|running|paused|restarting|removing|exited|dead)$'

started=$SECONDS
# Until the inputs are validated, only the bounded IMDS calls run.
deadline_at=$((started + 60))
exit_code=""
err_line=""
work=""
child_pid=""
instance=""
driver="unknown"
docker_dead=0
cleanup_failures=0
error_count=0
error_msgs=()
would_c=() would_v=()

free_before="" free_after="" pct_before="" pct_after=""
inodes_before="" inodes_after="" meta_before="" meta_after=""
trimmed_bytes=0 reclaimed=""
sysdf_before="null" sysdf_after="null"
c_removed=0 c_would=0 c_skipped=0 c_protected=0 c_failed=0 c_not_ecs=0
v_removed=0 v_would=0 v_skipped=0 v_failed=0 v_with=0
t_enabled=false t_runs=0 t_would=0 t_skipped=0 t_failed=0 t_budget_exhausted=false

# The document's parameters: a default only when unset. Set but empty is
# refused, as the document's allowedPattern refuses it.
DRY_RUN=${CC_DRY_RUN-false}
SCOPE=${CC_SCOPE-ecs}
DEADLINE=${CC_DEADLINE_SECONDS-3600}
GRACE=${CC_GRACE_SECONDS-3600}
FSTRIM=${CC_FSTRIM-auto}
MIN_FREE=${CC_MIN_FREE_PERCENT-10}
LOCK_FILE=${CC_LOCK_FILE:-/var/run/ecs-caretaker-cleanup.lock}
INTROSPECTION_URL=${CC_INTROSPECTION_URL:-http://localhost:51678/v1/tasks}
DOCKER_TIMEOUT=${CC_DOCKER_TIMEOUT:-}
FSTRIM_BUDGET=${CC_FSTRIM_BUDGET:-300}
JSON_TOOL=${CC_JSON_TOOL:-auto}
IMDS_URL=${CC_IMDS_URL:-http://169.254.169.254}

log() {
  printf '%(%Y-%m-%dT%H:%M:%SZ)T cleanup: %s\n' -1 "$*" >&2
}

# Control characters and non-ASCII bytes are dropped so that a cut can never
# split a character and the JSON stays plain ASCII.
sanitize() {
  local s=${1//[$'\t\r\n']/ }
  s=$(printf '%s' "$s" | tr -cd ' -~')
  printf '%s' "${s:0:$2}"
}

note_error() {
  error_count=$((error_count + 1))
  log "error: $1"
  if ((${#error_msgs[@]} < MAX_ERROR_MESSAGES)); then
    error_msgs+=("$(sanitize "$1" "$MAX_ERROR_LENGTH")")
  fi
}

json_str() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}

# JSON integers only (no leading zeros, e.g. an unvalidated "07"); anything
# else, unknown or unparsable, becomes null.
jnum() {
  if [[ $1 =~ ^-?(0|[1-9][0-9]*)$ ]]; then printf '%s' "$1"; else printf 'null'; fi
}

status_name() {
  case $1 in
    0) echo ok ;; 2) echo usage ;; 10) echo docker-unresponsive ;;
    11) echo introspection-unavailable ;; 12) echo cleanup-errors ;;
    13) echo low-space ;; 14) echo locked ;; 15) echo deadline ;;
    16) echo space-unmeasured ;; 129 | 130 | 143) echo terminated ;;
    *) echo internal-error ;;
  esac
}

report_line() { # code, number of error messages to include, dryRunNames JSON
  local code=$1 n=$2 names=$3 i errs=""
  for ((i = 0; i < n; i++)); do
    errs+="${errs:+,}$(json_str "${error_msgs[i]}")"
  done
  printf '{"v":1,"instance":%s,"driver":%s,"dryRun":%s,"scope":%s,"deadlineSeconds":%s,"exitCode":%s,"status":"%s",' \
    "$(json_str "$instance")" "$(json_str "$driver")" "$([[ $DRY_RUN == true ]] && echo true || echo false)" \
    "$(json_str "$(sanitize "$SCOPE" 8)")" "$(jnum "$DEADLINE")" "$code" "$(status_name "$code")"
  printf '"freeBytesBefore":%s,"freeBytesAfter":%s,"reclaimedBytes":%s,"trimmedBytes":%s,' \
    "$(jnum "$free_before")" "$(jnum "$free_after")" "$(jnum "$reclaimed")" "$(jnum "$trimmed_bytes")"
  printf '"freePercentBefore":%s,"freePercentAfter":%s,"minFreePercent":%s,' \
    "$(jnum "$pct_before")" "$(jnum "$pct_after")" "$(jnum "$MIN_FREE")"
  printf '"freeInodesBefore":%s,"freeInodesAfter":%s,"metadataFreeBytesBefore":%s,"metadataFreeBytesAfter":%s,' \
    "$(jnum "$inodes_before")" "$(jnum "$inodes_after")" "$(jnum "$meta_before")" "$(jnum "$meta_after")"
  printf '"containers":{"removed":%s,"wouldRemove":%s,"skipped":%s,"protected":%s,"notEcs":%s,"failed":%s},' \
    "$c_removed" "$c_would" "$c_skipped" "$c_protected" "$c_not_ecs" "$c_failed"
  printf '"volumes":{"removed":%s,"withContainers":%s,"wouldRemove":%s,"skipped":%s,"failed":%s},' \
    "$v_removed" "$v_with" "$v_would" "$v_skipped" "$v_failed"
  printf '"trim":{"enabled":%s,"runs":%s,"wouldRun":%s,"skipped":%s,"failed":%s,"budgetExhausted":%s},' \
    "$t_enabled" "$t_runs" "$t_would" "$t_skipped" "$t_failed" "$t_budget_exhausted"
  printf '"dockerDf":{"before":%s,"after":%s},"dryRunNames":%s,' "$sysdf_before" "$sysdf_after" "$names"
  printf '"errorCount":%s,"errors":[%s],"durationSeconds":%s}' \
    "$error_count" "$errs" "$((SECONDS - started))"
}

# A dry run names what it would remove, as many names as the line has room
# for after the error messages, and counts the rest. Names are tame (docker
# container names, 64-hex volume names), so each costs its length plus quotes
# and a comma.
dry_run_names() { # room (characters)
  local room=$1 name cs="" vs="" total=$((${#would_c[@]} + ${#would_v[@]})) shown=0
  if ((${#would_c[@]})); then
    for name in "${would_c[@]}"; do
      ((room >= ${#name} + 3)) || break
      cs+="${cs:+,}\"$name\""
      room=$((room - ${#name} - 3))
      shown=$((shown + 1))
    done
  fi
  # Containers first: volumes are listed only once every container fits.
  if ((${#would_v[@]})) && ((shown == ${#would_c[@]})); then
    for name in "${would_v[@]}"; do
      ((room >= ${#name} + 3)) || break
      vs+="${vs:+,}\"$name\""
      room=$((room - ${#name} - 3))
      shown=$((shown + 1))
    done
  fi
  printf '{"containers":[%s],"volumes":[%s],"omitted":%s}' "$cs" "$vs" "$((total - shown))"
}

# The call in flight goes before the report does, so that no `docker rm`
# outlives the report that does not count it. timeout passes TERM on to its
# command; whatever is left after half a second is killed.
kill_children() {
  local pid=$child_pid i
  [[ -n $pid ]] || return 0
  child_pid=""
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if command -v pkill >/dev/null 2>&1; then pkill -KILL -P "$pid" 2>/dev/null || true; fi
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

finish() {
  local rc=$? code line n empty_names=null names room
  # A signal now must not cut the report short.
  trap - EXIT
  trap '' HUP INT TERM
  set +e
  kill_children
  if [[ -n $exit_code ]]; then
    code=$exit_code
  else
    code=$EX_INTERNAL
    note_error "internal error: exit status $rc${err_line:+ at line $err_line}"
  fi
  if [[ $DRY_RUN == true ]]; then
    # The widest "omitted" the names object can hold.
    empty_names="{\"containers\":[],\"volumes\":[],\"omitted\":$((${#would_c[@]} + ${#would_v[@]}))}"
  fi
  n=${#error_msgs[@]}
  line=$(report_line "$code" "$n" "$empty_names")
  # Drop error messages until the line fits; the count still says how many.
  while ((${#line} > MAX_LINE && n > 0)); do
    n=$((n - 1))
    line=$(report_line "$code" "$n" "$empty_names")
  done
  if [[ $DRY_RUN == true ]] && ((${#line} <= MAX_LINE)); then
    room=$((MAX_LINE - ${#line}))
    names=$(dry_run_names "$room")
    line=$(report_line "$code" "$n" "$names")
  fi
  if ((${#line} > MAX_LINE)); then
    line=$(printf '{"v":1,"instance":%s,"exitCode":%s,"status":"%s","errorCount":%s,"truncated":true}' \
      "$(json_str "${instance:0:64}")" "$code" "$(status_name "$code")" "$error_count")
  fi
  printf '%s\n' "$line" >&3
  if [[ -n $work ]]; then rm -rf -- "$work"; fi
  exit "$code"
}

# Reached within a second of the signal: every call runs in the background
# while this shell waits in `wait`, which a trapped signal interrupts.
# shellcheck disable=SC2317 # reached only through the signal traps below
on_signal() {
  trap - HUP INT TERM
  exit_code=$1
  note_error "stopped by signal $2"
  exit "$1"
}

trap 'err_line=$LINENO' ERR
trap finish EXIT
trap 'on_signal 129 HUP' HUP
trap 'on_signal 130 INT' INT
trap 'on_signal 143 TERM' TERM

die() {
  exit_code=$1
  note_error "$2"
  exit "$1"
}

deadline_exit() { # what was running or about to start
  exit_code=$EX_DEADLINE
  note_error "deadline of ${DEADLINE}s reached at $1; nothing more was started"
  exit "$EX_DEADLINE"
}

# Sets `limit` to the seconds the next call may take: its own cap, cut to the
# time left; leaves through deadline_exit when too little is left to start.
budget() { # cap, what
  local left=$((deadline_at - SECONDS))
  if ((left < MIN_CALL_SECONDS)); then deadline_exit "$2"; fi
  limit=$1
  if ((left < limit)); then limit=$left; fi
  limit_is_deadline=$((left <= $1))
}

# Runs a command for at most `seconds`, stdout and stderr to files, in the
# background: the trap of a signal runs at once, and kill_children finds it.
# --foreground keeps timeout and its command in this script's process group:
# without it timeout leads a group of its own, and when Run Command kills the
# step's process group a `docker rm` in flight lives on and removes
# containers that no report counts.
# Children must not inherit the report descriptor (3) nor the lock (9): a hung
# child would otherwise keep the lock, or SSM's stdout, open after we exit.
run_limited() { # seconds, stdout file, stderr file, command...
  local secs=$1 out=$2 err=$3 rc=0
  shift 3
  timeout --foreground -k 2 "$secs" "$@" >"$out" 2>"$err" </dev/null 3>&- 9>&- &
  child_pid=$!
  wait "$child_pid" || rc=$?
  child_pid=""
  return "$rc"
}

timed_out() { [[ $1 == 124 || $1 == 137 ]]; }

# A bounded call that ends the run with status deadline when it was cut by
# the deadline rather than by its own cap.
run_bounded() { # cap, what, stdout file, stderr file, command...
  local cap=$1 what=$2 out=$3 err=$4 rc=0 limit limit_is_deadline
  shift 4
  budget "$cap" "$what"
  run_limited "$limit" "$out" "$err" "$@" || rc=$?
  if ((rc)) && timed_out "$rc" && ((limit_is_deadline)); then deadline_exit "$what"; fi
  return "$rc"
}

dk() { # stdout file, stderr file, docker arguments...
  local out=$1 err=$2
  shift 2
  if ((docker_dead)); then return 124; fi
  run_bounded "$DOCKER_TIMEOUT" "docker $1" "$out" "$err" docker "$@"
}

first_lines() { # file, count: joined with " | "
  head -n "$2" -- "$1" 2>/dev/null | tr '\n' '|' | sed 's/|$//; s/|/ | /g'
}

resolve_instance() {
  local id=""
  if [[ -n ${CC_INSTANCE_ID:-} ]]; then
    id=$CC_INSTANCE_ID
  elif run_limited 5 "$work/token" "$work/err" curl -sS --fail --max-time 2 -X PUT \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$IMDS_URL/latest/api/token" &&
    run_limited 5 "$work/id" "$work/err" curl -sS --fail --max-time 2 \
      -H "X-aws-ec2-metadata-token: $(<"$work/token")" "$IMDS_URL/latest/meta-data/instance-id" &&
    id=$(<"$work/id") && [[ $id =~ ^i-[0-9a-f]+$ ]]; then
    :
  else
    id=${HOSTNAME:-unknown}
  fi
  instance=$(sanitize "$id" 64)
}

validate() {
  local bad=()
  [[ $DRY_RUN =~ ^(true|false)$ ]] || bad+=("CC_DRY_RUN must be true or false")
  [[ $SCOPE =~ ^(ecs|all)$ ]] || bad+=("CC_SCOPE must be ecs or all")
  # Numbers are plain decimal without leading zeros, as the document's
  # allowedPattern has them: one value, one spelling.
  if [[ ! $DEADLINE =~ ^[1-9][0-9]{1,4}$ ]] || ((DEADLINE < 30 || DEADLINE > 86400)); then
    bad+=("CC_DEADLINE_SECONDS must be an integer from 30 to 86400")
  fi
  if [[ ! $GRACE =~ ^(0|[1-9][0-9]{0,6})$ ]] || ((GRACE > 2592000)); then
    bad+=("CC_GRACE_SECONDS must be an integer from 0 to 2592000")
  fi
  [[ $FSTRIM =~ ^(auto|off|force)$ ]] || bad+=("CC_FSTRIM must be auto, off or force")
  [[ $MIN_FREE =~ ^(0|[1-9][0-9]?)$ ]] || bad+=("CC_MIN_FREE_PERCENT must be an integer from 0 to 99")
  if [[ -n $DOCKER_TIMEOUT ]] && { [[ ! $DOCKER_TIMEOUT =~ ^[1-9][0-9]{0,3}$ ]] || ((DOCKER_TIMEOUT > 3600)); }; then
    bad+=("CC_DOCKER_TIMEOUT must be an integer from 1 to 3600")
  fi
  if [[ ! $FSTRIM_BUDGET =~ ^[0-9]{1,5}$ ]] || ((10#$FSTRIM_BUDGET > 86400)); then
    bad+=("CC_FSTRIM_BUDGET must be an integer from 0 to 86400")
  fi
  [[ $JSON_TOOL =~ ^(auto|jq|python3)$ ]] || bad+=("CC_JSON_TOOL must be auto, jq or python3")
  [[ $LOCK_FILE == /* ]] || bad+=("CC_LOCK_FILE must be an absolute path")
  [[ $INTROSPECTION_URL =~ ^https?:// ]] || bad+=("CC_INTROSPECTION_URL must be an http(s) URL")
  if ((${#bad[@]})); then
    local b
    # Bad values are not echoed: they could be anything.
    for b in "${bad[@]}"; do note_error "usage: $b"; done
    exit_code=$EX_USAGE
    exit "$EX_USAGE"
  fi
  FSTRIM_BUDGET=$((10#$FSTRIM_BUDGET))
  deadline_at=$((started + DEADLINE))
  # Without a cap, a call may take all the time left: a slow but working
  # daemon is not cut short, and the deadline still bounds every call.
  if [[ -z $DOCKER_TIMEOUT ]]; then DOCKER_TIMEOUT=$DEADLINE; fi
}

# A run killed with SIGKILL (Run Command's own kill, which no trap sees) leaves
# its work directory, and the document's wrapper its copy of this script. No
# run lasts longer than a step may, 48 hours (the Run Command maximum): what
# is older is nobody's. Called under the lock.
sweep_leftovers() {
  find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'ecs-caretaker-cleanup.*' -mmin +2880 \
    -exec rm -rf -- {} + 2>/dev/null || log "could not remove old temporary files in ${TMPDIR:-/tmp}"
}

take_lock() {
  if ! { exec 9>>"$LOCK_FILE"; } 2>/dev/null; then
    die "$EX_INTERNAL" "cannot open lock file $LOCK_FILE"
  fi
  if ! flock -n 9; then
    exit_code=$EX_LOCKED
    log "another cleanup run holds $LOCK_FILE; leaving"
    exit "$EX_LOCKED"
  fi
}

# "95.02GB", "95.02 GB", "1.5GiB", "0B" -> bytes; empty when unparsable.
to_bytes() {
  awk -v s="$1" 'BEGIN {
    if (!match(s, /^[0-9]+(\.[0-9]+)?/)) exit
    n = substr(s, 1, RLENGTH); u = toupper(substr(s, RLENGTH + 1)); gsub(/[ \t]/, "", u)
    m[""] = 1; m["B"] = 1; m["KB"] = 1e3; m["MB"] = 1e6; m["GB"] = 1e9; m["TB"] = 1e12; m["PB"] = 1e15
    m["KIB"] = 1024; m["MIB"] = 1048576; m["GIB"] = 1073741824; m["TIB"] = 1099511627776
    if (u in m) printf "%.0f\n", n * m[u]
  }'
}

info_value() { # key, docker info text
  awk -v k="$1" '{ sub(/^[ \t]+/, "") } index($0, k ": ") == 1 { print substr($0, length(k) + 3); exit }' <<<"$2"
}

# Sets m_free, m_pct, m_inodes, m_meta for the current driver; fields stay
# empty when they cannot be measured.
measure() {
  local phase=$1 info="" rc=0 root out pool p vg lv total avail mtotal mavail mpct
  m_free="" m_pct="" m_inodes="" m_meta=""
  dk "$work/info" "$work/err" info || rc=$?
  if ((rc)); then
    if [[ $phase == before ]]; then
      if timed_out "$rc"; then
        docker_dead=1
        die "$EX_DOCKER" "docker info did not answer within ${DOCKER_TIMEOUT}s"
      fi
      die "$EX_DOCKER" "docker info failed (exit $rc): $(first_lines "$work/err" 2)"
    fi
    if timed_out "$rc"; then docker_dead=1; fi
    note_error "docker info failed after cleanup (exit $rc)"
  else
    info=$(<"$work/info")
    local d
    d=$(info_value "Storage Driver" "$info")
    if [[ -n $d ]]; then driver=$(sanitize "$d" 32); fi
  fi

  if [[ $driver == devicemapper ]]; then
    pool=$(info_value "Pool Name" "$info")
    # device-mapper names join VG and LV with "-" and double any "-" inside them.
    p=${pool//--/:}
    vg=${p%%-*} lv=${p#*-}
    vg=${vg//:/-} lv=${lv//:/-}
    if [[ -n $pool && $p == *-* ]] && command -v lvs >/dev/null 2>&1 &&
      run_bounded 30 lvs "$work/out" "$work/err" lvs --noheadings --nosuffix --units b --separator '|' \
        -o lv_size,data_percent,lv_metadata_size,metadata_percent "$vg/$lv" &&
      read -r m_free m_pct m_meta mpct < <(awk -F'|' 'NR == 1 {
        for (i = 1; i <= 4; i++) gsub(/[ \t]/, "", $i)
        if ($1 == "" || $2 == "" || $3 == "" || $4 == "") exit
        dp = 100 - $2; mp = 100 - $4
        printf "%.0f %d %.0f %d\n", $1 * dp / 100, dp, $3 * mp / 100, mp
      }' "$work/out"); then
      if ((mpct < m_pct)); then m_pct=$mpct; fi
    else
      # Without lvs, docker info's rounded figures (4 significant digits) will do.
      total=$(to_bytes "$(info_value "Data Space Total" "$info")")
      avail=$(to_bytes "$(info_value "Data Space Available" "$info")")
      mtotal=$(to_bytes "$(info_value "Metadata Space Total" "$info")")
      mavail=$(to_bytes "$(info_value "Metadata Space Available" "$info")")
      m_free=$avail m_meta=$mavail
      if [[ -n $total && -n $avail ]] && ((total > 0)); then
        m_pct=$((avail * 100 / total))
        if [[ -n $mtotal && -n $mavail ]] && ((mtotal > 0 && mavail * 100 / mtotal < m_pct)); then
          m_pct=$((mavail * 100 / mtotal))
        fi
      else
        note_error "thin pool free space cannot be measured ($phase): no lvs figures and none in docker info"
      fi
    fi
  else
    root=$(info_value "Docker Root Dir" "$info")
    [[ $root == /* ]] || root=/var/lib/docker
    local size iavail itotal
    if run_bounded 30 df "$work/out" "$work/err" df -P -B1 -- "$root" &&
      read -r size avail < <(awk 'NR == 2 { print $2, $4 }' "$work/out") &&
      [[ $size =~ ^[0-9]+$ && $avail =~ ^[0-9]+$ ]] && ((size > 0)); then
      m_free=$avail
      m_pct=$((avail * 100 / size))
    else
      note_error "df $root failed ($phase): $(first_lines "$work/err" 1)"
    fi
    if run_bounded 30 df "$work/out" "$work/err" df -P -i -- "$root" &&
      read -r itotal iavail < <(awk 'NR == 2 { print $2, $4 }' "$work/out") &&
      [[ $itotal =~ ^[0-9]+$ && $iavail =~ ^[0-9]+$ ]]; then
      m_inodes=$iavail
      # Some filesystems (btrfs) report no inode limit at all.
      if ((itotal > 0)) && [[ -n $m_pct ]] && ((iavail * 100 / itotal < m_pct)); then
        m_pct=$((iavail * 100 / itotal))
      fi
    fi
  fi
}

# Sizes from `docker system df` as a JSON object (or null) into the named
# variable. A daemon that cannot answer this in time is not asked anything more.
docker_df() {
  local rc=0 obj
  dk "$work/out" "$work/err" system df --format "${LB}.Type${RB}|${LB}.Size${RB}" || rc=$?
  if ((rc)); then
    if timed_out "$rc"; then
      docker_dead=1
      note_error "docker system df did not answer within ${DOCKER_TIMEOUT}s"
    else
      cleanup_failures=$((cleanup_failures + 1))
      note_error "docker system df failed (exit $rc): $(first_lines "$work/err" 1)"
    fi
    printf -v "$1" '%s' null
    return 0
  fi
  obj=$(awk -F'|' '
    function bytes(s,   n, u, m) {
      if (!match(s, /^[0-9]+(\.[0-9]+)?/)) return "null"
      n = substr(s, 1, RLENGTH); u = toupper(substr(s, RLENGTH + 1)); gsub(/[ \t]/, "", u)
      m[""] = 1; m["B"] = 1; m["KB"] = 1e3; m["MB"] = 1e6; m["GB"] = 1e9; m["TB"] = 1e12; m["PB"] = 1e15
      return (u in m) ? sprintf("%.0f", n * m[u]) : "null"
    }
    $1 == "Images" { k["images"] = bytes($2) }
    $1 == "Containers" { k["containers"] = bytes($2) }
    $1 == "Local Volumes" { k["volumes"] = bytes($2) }
    $1 == "Build Cache" { k["buildCache"] = bytes($2) }
    END {
      printf "{\"images\":%s,\"containers\":%s,\"volumes\":%s,\"buildCache\":%s}\n",
        ("images" in k) ? k["images"] : "null", ("containers" in k) ? k["containers"] : "null",
        ("volumes" in k) ? k["volumes"] : "null", ("buildCache" in k) ? k["buildCache"] : "null"
    }' "$work/out")
  printf -v "$1" '%s' "$obj"
}

declare -A protected_ids=() protected_arns=()

# The introspection answer, checked for its whole structure, as lines
# "T<tab>task ARN", "C<tab>docker id" and a last "END<tab>task count". A cut
# or malformed body fails here: it is refused, never read in part.
# Strings are matched with \A and \z: jq's Oniguruma lets ^ and $ match at
# any newline inside a value.
# shellcheck disable=SC2016 # a jq program, not shell
readonly JQ_TASKS='
def arn: type == "string" and test("\\Aarn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task/[A-Za-z0-9._/-]+\\z");
def dockerid: type == "string" and test("\\A([0-9a-fA-F]{64})?\\z");
if type != "object" then error("the answer is not a JSON object")
elif has("Tasks") | not then error("the answer has no Tasks")
elif (.Tasks | type) != "array" and .Tasks != null then error("Tasks is not a list")
else
  (.Tasks // []) as $tasks
  | ($tasks[]
     | if type != "object" then error("a task is not an object")
       elif (.Arn | arn) | not then error("a task has no valid Arn")
       elif (.Containers | type) != "array" and .Containers != null then error("a task has no Containers list")
       else
         "T\t" + .Arn,
         ((.Containers // [])[]
          | if type != "object" or ((.DockerId | dockerid) | not) then error("a container has no valid DockerId")
            elif .DockerId == "" then empty
            else "C\t" + (.DockerId | ascii_downcase) end)
       end),
    "END\t" + ($tasks | length | tostring)
end'

# The same checks for hosts without jq (python3 is on Amazon Linux 2 and 2023):
# strict JSON (no NaN, no duplicate keys, valid UTF-8), the same shape.
readonly PY_TASKS='
import json, re, sys
ARN = re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task/[A-Za-z0-9._/-]+")
DOCKER_ID = re.compile(r"([0-9a-fA-F]{64})?")
def bad(why):
    sys.stderr.write(why + "\n")
    sys.exit(3)
def pairs(items):
    d = {}
    for k, v in items:
        if k in d:
            bad("duplicate key " + k)
        d[k] = v
    return d
def constant(name):
    bad("not JSON: " + name)
try:
    doc = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
except ValueError as e:
    bad("not JSON: %s" % e)
if not isinstance(doc, dict):
    bad("the answer is not a JSON object")
if "Tasks" not in doc:
    bad("the answer has no Tasks")
tasks = doc["Tasks"]
if tasks is None:
    tasks = []
if not isinstance(tasks, list):
    bad("Tasks is not a list")
out = []
for t in tasks:
    if not isinstance(t, dict):
        bad("a task is not an object")
    arn = t.get("Arn")
    if not isinstance(arn, str) or not ARN.fullmatch(arn):
        bad("a task has no valid Arn")
    containers = t.get("Containers")
    if containers is None:
        containers = []
    if not isinstance(containers, list):
        bad("a task has no Containers list")
    out.append("T\t" + arn)
    for c in containers:
        if not isinstance(c, dict):
            bad("a container has no valid DockerId")
        i = c.get("DockerId")
        if not isinstance(i, str) or not DOCKER_ID.fullmatch(i):
            bad("a container has no valid DockerId")
        if i:
            out.append("C\t" + i.lower())
out.append("END\t%d" % len(tasks))
sys.stdout.write("\n".join(out) + "\n")
'

load_protected_set() {
  local rc=0 tool kind value n_ids=0 n_tasks="" limit limit_is_deadline
  tool=$JSON_TOOL
  if [[ $tool == auto ]]; then
    if command -v jq >/dev/null 2>&1; then tool=jq; elif command -v python3 >/dev/null 2>&1; then tool=python3; fi
  fi
  if [[ $tool == auto ]] || ! command -v "$tool" >/dev/null 2>&1; then
    die "$EX_INTROSPECTION" "neither jq nor python3 is installed to check the ECS agent's answer; nothing removed"
  fi
  budget "$DOCKER_TIMEOUT" "ECS agent introspection"
  run_limited "$limit" "$work/introspection" "$work/err" curl -sS --fail --max-time "$limit" "$INTROSPECTION_URL" || rc=$?
  if ((rc)); then
    if ((limit_is_deadline)) && { timed_out "$rc" || ((rc == 28)); }; then deadline_exit "ECS agent introspection"; fi
    die "$EX_INTROSPECTION" "ECS agent introspection failed (exit $rc): $(first_lines "$work/err" 1)"
  fi
  rc=0
  if [[ $tool == jq ]]; then
    run_bounded 30 "introspection check" "$work/tasks" "$work/err" jq -r "$JQ_TASKS" "$work/introspection" || rc=$?
  else
    run_bounded 30 "introspection check" "$work/tasks" "$work/err" python3 -c "$PY_TASKS" "$work/introspection" || rc=$?
  fi
  if ((rc)); then
    die "$EX_INTROSPECTION" "ECS agent introspection answer refused by $tool: $(first_lines "$work/err" 1)"
  fi
  while IFS=$TAB read -r kind value; do
    if [[ -n $n_tasks ]]; then n_tasks=bad; break; fi
    case $kind in
      T) [[ $value =~ $ARN_RE ]] || { n_tasks=bad; break; }; protected_arns[$value]=1 ;;
      C) [[ $value =~ ^[0-9a-f]{64}$ ]] || { n_tasks=bad; break; }; protected_ids[$value]=1; n_ids=$((n_ids + 1)) ;;
      END) if [[ $value =~ ^[0-9]+$ ]]; then n_tasks=$value; else n_tasks=bad; break; fi ;;
      *) n_tasks=bad; break ;;
    esac
  done <"$work/tasks"
  if [[ ! $n_tasks =~ ^[0-9]+$ ]]; then
    die "$EX_INTROSPECTION" "ECS agent introspection answer could not be read in full; nothing removed"
  fi
  log "introspection: $n_tasks tasks, $n_ids containers protected"
}

# The container table, one array per column, filled by list_containers.
r_id=() r_status=() r_pid=() r_finished=() r_created=() r_name=() r_arn=() r_owned=() r_anon=() r_other=()
declare -A vol_refs=()
# -v needs to know every container's volumes; one unreadable mount list and
# no container is removed with -v.
mounts_known=1
readonly TAME_RE='^"([^"\\]*)"$'
readonly MOUNT_RE='^\["([a-z]*)","([^"\\]*)","([^"\\]*)"\](.*)$'

# A field that docker printed with the `json` template function, when it is a
# string without a single escape: its value goes to REPLY. Anything escaped
# (a quote, a backslash, a newline, a tab, <, > or &) is refused, so a value
# can never carry a separator of the tables below.
tame() {
  [[ $1 =~ $TAME_RE ]] || return 1
  REPLY=${BASH_REMATCH[1]}
}

bad_row() {
  die "$EX_DOCKER" "docker inspect printed a row that does not parse ($1); nothing removed"
}

# Every column comes from the `json` template function and the columns are
# separated by tabs: JSON escapes every tab and newline inside a value, so a
# label can never start a row or a column of its own. A row with another
# number of columns, or a docker-owned column that is not plain, stops the run.
list_containers() {
  local rc=0 i chunk line ids=() f id status name arn cname cluster owned rest anon other mtype mname mdrv fmt
  fmt="${LB}json .Id${RB}${TAB}${LB}json .State.Status${RB}${TAB}${LB}json .State.Pid${RB}${TAB}"
  fmt+="${LB}json .State.FinishedAt${RB}${TAB}${LB}json .Created${RB}${TAB}${LB}json .Name${RB}${TAB}"
  fmt+="${LB}json (index .Config.Labels \"com.amazonaws.ecs.task-arn\")${RB}${TAB}"
  fmt+="${LB}json (index .Config.Labels \"com.amazonaws.ecs.container-name\")${RB}${TAB}"
  fmt+="${LB}json (index .Config.Labels \"com.amazonaws.ecs.cluster\")${RB}${TAB}"
  fmt+="M${LB}range .Mounts${RB}[${LB}json .Type${RB},${LB}json .Name${RB},${LB}json .Driver${RB}]${LB}end${RB}"
  dk "$work/ps" "$work/err" ps -a -q --no-trunc || rc=$?
  if ((rc)); then
    if timed_out "$rc"; then docker_dead=1; fi
    die "$EX_DOCKER" "docker ps failed (exit $rc): $(first_lines "$work/err" 1)"
  fi
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    [[ $line =~ ^[0-9a-f]{64}$ ]] || die "$EX_DOCKER" "docker ps listed a line that is not a container id; nothing removed"
    ids+=("$line")
  done <"$work/ps"
  : >"$work/containers"
  for ((i = 0; i < ${#ids[@]}; i += INSPECT_BATCH)); do
    chunk=("${ids[@]:i:INSPECT_BATCH}")
    rc=0
    dk "$work/out" "$work/err" inspect --format "$fmt" "${chunk[@]}" || rc=$?
    if ((rc)); then
      if timed_out "$rc"; then
        docker_dead=1
        die "$EX_DOCKER" "docker inspect did not answer within ${DOCKER_TIMEOUT}s"
      fi
      # A container removed since `docker ps` makes inspect fail for that one only.
      if [[ ! -s $work/err ]] || grep -qvi 'no such' "$work/err"; then
        die "$EX_DOCKER" "docker inspect failed (exit $rc): $(first_lines "$work/err" 1)"
      fi
    fi
    cat -- "$work/out" >>"$work/containers"
  done

  while IFS=$TAB read -r -a f; do
    ((${#f[@]})) || continue
    ((${#f[@]} == 10)) || bad_row "${#f[@]} columns"
    if ! tame "${f[0]}" || [[ ! $REPLY =~ ^[0-9a-f]{64}$ ]]; then bad_row "id"; fi
    id=$REPLY
    if ! tame "${f[1]}" || [[ ! $REPLY =~ $STATES_RE ]]; then bad_row "state of ${id:0:12}"; fi
    status=$REPLY
    [[ ${f[2]} =~ ^[0-9]{1,10}$ ]] || bad_row "pid of ${id:0:12}"
    tame "${f[3]}" || bad_row "finish time of ${id:0:12}"
    r_finished+=("$REPLY")
    tame "${f[4]}" || bad_row "creation time of ${id:0:12}"
    r_created+=("$REPLY")
    name=""
    if tame "${f[5]}"; then name=${REPLY#/}; fi
    # ECS-owned: all three labels the agent sets, plain, with a task ARN.
    # None of them: not ECS's. Anything between is doubt: never removed.
    arn="" owned=2
    if tame "${f[6]}"; then arn=$REPLY; fi
    if tame "${f[7]}" && cname=$REPLY && tame "${f[8]}" && cluster=$REPLY; then
      if [[ $arn =~ $ARN_RE && -n $cname && -n $cluster ]]; then
        owned=1
      elif [[ -z $arn && -z $cname && -z $cluster && ${f[6]} == '""' ]]; then
        owned=0
      fi
    fi
    ((owned == 1)) || arn=""
    rest=${f[9]#M} anon="" other=0
    while [[ -n $rest ]]; do
      if [[ $rest =~ $MOUNT_RE ]]; then
        mtype=${BASH_REMATCH[1]} mname=${BASH_REMATCH[2]} mdrv=${BASH_REMATCH[3]} rest=${BASH_REMATCH[4]}
        if [[ $mtype == volume ]]; then
          if [[ -n $mname ]]; then vol_refs[$mname]=$((${vol_refs[$mname]:-0} + 1)); fi
          if [[ $mname =~ ^[0-9a-f]{64}$ && $mdrv == local ]]; then anon+="${anon:+ }$mname"; else other=1; fi
        fi
      else
        other=1 mounts_known=0
        break
      fi
    done
    r_id+=("$id") r_status+=("$status") r_pid+=("${f[2]}") r_name+=("$name") r_arn+=("$arn")
    r_owned+=("$owned") r_anon+=("$anon") r_other+=("$other")
  done <"$work/containers"
  log "docker: ${#ids[@]} containers listed, ${#r_id[@]} inspected"
}

# Removes the given containers in batches; sets rm_ok/rm_gone/rm_bad (ids)
# and keeps the first daemon error message in last_rm_error.
remove_containers() { # force(0|1), with volumes(0|1), ids...
  local force=$1 vols=$2 i rc id opts=()
  shift 2
  local all=("$@") chunk
  local -A done_ids gone_ids
  rm_ok=() rm_gone=() rm_bad=()
  if ((vols)); then opts+=(-v); fi
  if ((force)); then opts+=(-f); fi
  for ((i = 0; i < ${#all[@]}; i += RM_BATCH)); do
    chunk=("${all[@]:i:RM_BATCH}")
    rc=0
    if ((${#opts[@]})); then
      dk "$work/out" "$work/err" rm "${opts[@]}" "${chunk[@]}" || rc=$?
    else
      dk "$work/out" "$work/err" rm "${chunk[@]}" || rc=$?
    fi
    if ((rc)) && timed_out "$rc"; then
      docker_dead=1
      note_error "docker rm did not answer within ${DOCKER_TIMEOUT}s"
      rm_bad+=("${all[@]:i}")
      return 0
    fi
    done_ids=() gone_ids=()
    while read -r id; do
      if [[ -n $id ]]; then done_ids[$id]=1; fi
    done <"$work/out"
    while read -r id; do
      if [[ -n $id ]]; then gone_ids[$id]=1; fi
    done < <(sed -nE 's/.*[Nn]o such container:? *([0-9a-f]+).*/\1/p' "$work/err")
    for id in "${chunk[@]}"; do
      if [[ -n ${done_ids[$id]+x} ]]; then
        rm_ok+=("$id")
      elif [[ -n ${gone_ids[$id]+x} ]]; then
        rm_gone+=("$id")
      else
        rm_bad+=("$id")
      fi
    done
    if [[ -z $last_rm_error ]] && ((rc)); then
      last_rm_error=$(grep -vi 'no such container' "$work/err" | head -n 1 || true)
    fi
  done
}

declare -A is_dead=() vol_count=()
running_pids=()
failed_ids=()

# One group of candidates: removed, a dead one retried once with -f.
remove_group() { # with volumes(0|1), ids...
  local vols=$1 id retry=()
  shift
  remove_containers 0 "$vols" "$@"
  c_removed=$((c_removed + ${#rm_ok[@]}))
  c_skipped=$((c_skipped + ${#rm_gone[@]}))
  if ((vols && ${#rm_ok[@]})); then
    for id in "${rm_ok[@]}"; do v_with=$((v_with + ${vol_count[$id]:-0})); done
  fi
  if ((${#rm_bad[@]})); then
    for id in "${rm_bad[@]}"; do
      if [[ -n ${is_dead[$id]+x} ]] && ((!docker_dead)); then retry+=("$id"); else failed_ids+=("$id"); fi
    done
  fi
  if ((${#retry[@]})); then
    log "retrying ${#retry[@]} dead containers with --force"
    remove_containers 1 "$vols" "${retry[@]}"
    c_removed=$((c_removed + ${#rm_ok[@]}))
    c_skipped=$((c_skipped + ${#rm_gone[@]}))
    if ((vols && ${#rm_ok[@]})); then
      for id in "${rm_ok[@]}"; do v_with=$((v_with + ${vol_count[$id]:-0})); done
    fi
    if ((${#rm_bad[@]})); then failed_ids+=("${rm_bad[@]}"); fi
  fi
}

clean_containers() {
  local now cutoff i n=${#r_id[@]} id status t key epoch v sole with_vols=() plain=()
  local -A live_arns=()
  now=$(date -u +%s)
  cutoff=$(date -u -d "@$((now - GRACE))" +%Y-%m-%dT%H:%M:%S)
  # Any task with a container still alive is live, even when the agent has
  # forgotten it: its exited containers stay.
  for ((i = 0; i < n; i++)); do
    case ${r_status[i]} in
      exited | dead) ;;
      *) if [[ -n ${r_arn[i]} ]]; then live_arns[${r_arn[i]}]=1; fi ;;
    esac
  done

  for ((i = 0; i < n; i++)); do
    id=${r_id[i]} status=${r_status[i]}
    if [[ $status == running && ${r_pid[i]} =~ ^[1-9][0-9]*$ ]]; then
      running_pids+=("${r_pid[i]}")
    fi
    if [[ -n ${protected_ids[$id]+x} || ${r_name[i]} == ecs-agent ]] ||
      [[ -n ${r_arn[i]} && (-n ${protected_arns[${r_arn[i]}]+x} || -n ${live_arns[${r_arn[i]}]+x}) ]]; then
      c_protected=$((c_protected + 1))
      c_skipped=$((c_skipped + 1))
      continue
    fi
    case $status in
      exited | dead) ;;
      *)
        c_skipped=$((c_skipped + 1))
        continue
        ;;
    esac
    if ((r_owned[i] == 2)); then
      log "keeping ${id:0:12}: its ECS labels are incomplete or not plain"
      c_skipped=$((c_skipped + 1))
      continue
    fi
    if ((r_owned[i] == 0)) && [[ $SCOPE == ecs ]]; then
      c_not_ecs=$((c_not_ecs + 1))
      c_skipped=$((c_skipped + 1))
      continue
    fi
    # Docker reports a zero FinishedAt for containers that never ran; their
    # creation time is then the best age we have.
    t=${r_finished[i]}
    if [[ $t == 0001-01-01T* ]]; then t=${r_created[i]}; fi
    if [[ $t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ && $t != 0001-01-01T* ]]; then
      # UTC RFC 3339 timestamps compare as strings: no fork per container.
      key=${t:0:19}
      if [[ ! $key < $cutoff ]]; then
        c_skipped=$((c_skipped + 1))
        continue
      fi
    elif [[ $t != 0001-01-01T* ]] && epoch=$(date -u -d "$t" +%s 2>/dev/null); then
      if ((epoch > now - GRACE)); then
        c_skipped=$((c_skipped + 1))
        continue
      fi
    else
      log "keeping ${id:0:12}: no usable finish time"
      c_skipped=$((c_skipped + 1))
      continue
    fi
    if [[ $status == dead ]]; then is_dead[$id]=1; fi
    # -v only when each volume is anonymous, local, and this container's alone.
    sole=0
    if ((mounts_known && !r_other[i])) && [[ -n ${r_anon[i]} ]]; then
      sole=1
      for v in ${r_anon[i]}; do
        if ((${vol_refs[$v]:-0} != 1)); then sole=0; fi
      done
    fi
    if ((sole)); then
      with_vols+=("$id")
      set -f
      # shellcheck disable=SC2086 # space-separated 64-hex names
      set -- ${r_anon[i]}
      set +f
      vol_count[$id]=$#
    else
      plain+=("$id")
    fi
    if [[ $DRY_RUN == true ]]; then
      would_c+=("${r_name[i]:-${id:0:12}}")
      if ((sole)); then
        for v in ${r_anon[i]}; do would_v+=("$v"); done
      fi
    fi
  done

  local total=$((${#with_vols[@]} + ${#plain[@]}))
  if ((total == 0)); then
    log "containers: nothing to remove"
    return 0
  fi
  if [[ $DRY_RUN == true ]]; then
    c_would=$total
    v_would=${#would_v[@]}
    log "dry run: would remove $total containers and $v_would of their volumes"
    return 0
  fi

  last_rm_error=""
  if ((${#plain[@]})); then remove_group 0 "${plain[@]}"; fi
  if ((${#with_vols[@]})) && ((!docker_dead)); then
    remove_group 1 "${with_vols[@]}"
  elif ((${#with_vols[@]})); then
    failed_ids+=("${with_vols[@]}")
  fi
  v_removed=$v_with
  if ((${#failed_ids[@]})); then
    c_failed=${#failed_ids[@]}
    cleanup_failures=$((cleanup_failures + ${#failed_ids[@]}))
    note_error "docker rm failed for ${#failed_ids[@]} containers (first ${failed_ids[0]:0:12}): ${last_rm_error:-no message}"
  fi
  log "containers: removed $c_removed (with $v_with volumes), failed $c_failed"
}

clean_volumes() {
  local rc=0 name f candidates=() i chunk msg
  dk "$work/vols" "$work/err" volume ls -f dangling=true --format "${LB}json .Name${RB}${TAB}${LB}json .Driver${RB}" || rc=$?
  if ((rc)); then
    if timed_out "$rc"; then
      docker_dead=1
      note_error "docker volume ls did not answer within ${DOCKER_TIMEOUT}s"
    else
      cleanup_failures=$((cleanup_failures + 1))
      note_error "docker volume ls failed (exit $rc): $(first_lines "$work/err" 1)"
    fi
    return 0
  fi
  while IFS=$TAB read -r -a f; do
    ((${#f[@]})) || continue
    # Named volumes may be reused by a later task; only anonymous ones (64 hex
    # characters) of the local driver are garbage for sure.
    if ((${#f[@]} == 2)) && tame "${f[0]}" && [[ $REPLY =~ ^[0-9a-f]{64}$ ]] && name=$REPLY &&
      tame "${f[1]}" && [[ $REPLY == local ]]; then
      candidates+=("$name")
    else
      v_skipped=$((v_skipped + 1))
    fi
  done <"$work/vols"
  if ((${#candidates[@]} == 0)); then
    return 0
  fi
  if [[ $DRY_RUN == true ]]; then
    v_would=$((v_would + ${#candidates[@]}))
    would_v+=("${candidates[@]}")
    log "dry run: would remove ${#candidates[@]} volumes"
    return 0
  fi
  local first_error="" failed=0
  local -A done_names
  for ((i = 0; i < ${#candidates[@]}; i += RM_BATCH)); do
    chunk=("${candidates[@]:i:RM_BATCH}")
    rc=0
    dk "$work/out" "$work/err" volume rm "${chunk[@]}" || rc=$?
    if ((rc)) && timed_out "$rc"; then
      docker_dead=1
      v_failed=$((v_failed + ${#candidates[@]} - i))
      cleanup_failures=$((cleanup_failures + ${#candidates[@]} - i))
      note_error "docker volume rm did not answer within ${DOCKER_TIMEOUT}s"
      return 0
    fi
    done_names=()
    while read -r name; do
      if [[ -n $name ]]; then done_names[$name]=1; fi
    done <"$work/out"
    for name in "${chunk[@]}"; do
      if [[ -n ${done_names[$name]+x} ]]; then
        v_removed=$((v_removed + 1))
        continue
      fi
      # Docker 17-20 say "Error: No such volume: <name>", later ones
      # "get <name>: no such volume": the name can stand on either side.
      msg=$(grep -F -- "$name" "$work/err" | head -n 1 || true)
      msg=${msg,,}
      if [[ $msg == *"no such volume"* ]]; then
        # Gone already, whoever removed it: the space is back all the same.
        v_removed=$((v_removed + 1))
      elif [[ $msg == *"in use"* ]]; then
        # Taken by a new container since the listing.
        v_skipped=$((v_skipped + 1))
      else
        failed=$((failed + 1))
        if [[ -z $first_error ]]; then first_error="${name:0:12}: $(first_lines "$work/err" 1)"; fi
      fi
    done
  done
  v_failed=$((v_failed + failed))
  cleanup_failures=$((cleanup_failures + failed))
  if [[ -n $first_error ]]; then note_error "docker volume rm failed for $failed volumes: $first_error"; fi
  log "volumes: removed $v_removed, skipped $v_skipped, failed $v_failed"
}

trim_running() {
  if [[ $FSTRIM == off ]] || [[ $FSTRIM == auto && $driver != devicemapper ]]; then
    return 0
  fi
  t_enabled=true
  local n=${#running_pids[@]} pid i left rc bytes first_error="" ionice_cmd=() out
  ((n)) || return 0
  # Without fstrim nothing is trimmed: that is a failure to report, not a
  # container that stopped.
  if ! command -v fstrim >/dev/null 2>&1; then
    t_failed=$n
    cleanup_failures=$((cleanup_failures + 1))
    note_error "fstrim is not installed (PATH=$PATH): $n running containers not trimmed"
    return 0
  fi
  if [[ $DRY_RUN == true ]]; then
    t_would=$n
    return 0
  fi
  if command -v ionice >/dev/null 2>&1; then ionice_cmd=(ionice -c3); fi
  local t0=$SECONDS
  for ((i = 0; i < n; i++)); do
    pid=${running_pids[i]}
    left=$((FSTRIM_BUDGET - (SECONDS - t0)))
    if ((left <= 0)); then
      t_budget_exhausted=true
      t_skipped=$((t_skipped + n - i))
      log "fstrim budget of ${FSTRIM_BUDGET}s used up; $((n - i)) containers not trimmed"
      break
    fi
    rc=0
    if ((${#ionice_cmd[@]})); then
      run_bounded "$left" "fstrim" "$work/out" "$work/err" "${ionice_cmd[@]}" fstrim -v "/proc/$pid/root/" || rc=$?
    else
      run_bounded "$left" "fstrim" "$work/out" "$work/err" fstrim -v "/proc/$pid/root/" || rc=$?
    fi
    if ((rc == 0)); then
      t_runs=$((t_runs + 1))
      out=$(<"$work/out")
      # "/proc/1/root/: 1.2 GiB (1288490188 bytes) trimmed", or older
      # util-linux: "/proc/1/root/: 1288490188 bytes were trimmed".
      if [[ $out =~ ([0-9]+)\ bytes ]]; then
        bytes=${BASH_REMATCH[1]}
        trimmed_bytes=$((trimmed_bytes + bytes))
      fi
    elif timed_out "$rc"; then
      t_budget_exhausted=true
      t_skipped=$((t_skipped + n - i))
      log "fstrim of pid $pid stopped at the end of the ${FSTRIM_BUDGET}s budget"
      break
    elif ((rc != 126 && rc != 127)) && grep -qF "/proc/$pid/root" "$work/err" &&
      grep -q 'No such file or directory' "$work/err"; then
      # The container stopped since it was listed: its root is gone.
      t_skipped=$((t_skipped + 1))
    else
      t_failed=$((t_failed + 1))
      cleanup_failures=$((cleanup_failures + 1))
      if [[ -z $first_error ]]; then first_error="pid $pid (exit $rc): $(first_lines "$work/err" 1)"; fi
    fi
  done
  if [[ -n $first_error ]]; then note_error "fstrim failed for $t_failed containers: $first_error"; fi
  log "fstrim: $t_runs runs, $trimmed_bytes bytes trimmed"
}

main() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/ecs-caretaker-cleanup.XXXXXX")
  resolve_instance
  validate
  take_lock
  sweep_leftovers
  log "start: dryRun=$DRY_RUN scope=$SCOPE deadlineSeconds=$DEADLINE graceSeconds=$GRACE fstrim=$FSTRIM minFreePercent=$MIN_FREE"

  measure before
  free_before=$m_free pct_before=$m_pct inodes_before=$m_inodes meta_before=$m_meta
  docker_df sysdf_before
  if ((docker_dead)); then
    exit_code=$EX_DOCKER
    exit "$EX_DOCKER"
  fi
  log "driver $driver, free before: ${free_before:-?} bytes (${pct_before:-?}%)"

  load_protected_set
  list_containers
  clean_containers
  ((docker_dead)) || clean_volumes
  trim_running

  if ((!docker_dead)); then
    measure after
    free_after=$m_free pct_after=$m_pct inodes_after=$m_inodes meta_after=$m_meta
    docker_df sysdf_after
  fi
  if [[ -n $free_before && -n $free_after ]]; then
    # Tasks keep writing while we clean; a shrinking disk is not negative reclaim.
    reclaimed=$((free_after > free_before ? free_after - free_before : 0))
  fi
  log "free after: ${free_after:-?} bytes (${pct_after:-?}%)"

  if ((docker_dead)); then
    exit_code=$EX_DOCKER
  elif [[ -z $pct_after ]]; then
    exit_code=$EX_UNMEASURED
    note_error "free space could not be measured after cleanup ($driver): MinFreePercent cannot be judged"
  elif ((pct_after < MIN_FREE)); then
    exit_code=$EX_LOW_SPACE
    note_error "free space ${pct_after}% is below ${MIN_FREE}% after cleanup"
  elif ((cleanup_failures)); then
    exit_code=$EX_CLEANUP
  else
    exit_code=$EX_OK
  fi
  finish
}

main "$@"
