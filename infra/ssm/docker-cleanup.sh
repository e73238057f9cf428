#!/usr/bin/env bash
# ecs-caretaker docker cleanup for Amazon ECS container instances (EC2 launch type).
#
# Run by SSM Run Command through the document that infra/ssm-document.ts builds;
# the document prepends `export CC_...=` lines that carry its parameters. It can
# also be run by hand as root: `CC_DRY_RUN=true bash docker-cleanup.sh`.
#
# What it does, in order:
#   - measures free space: the devicemapper thin pool (lvs, else `docker info`),
#     or the filesystem of the Docker root dir (df) for every other driver;
#   - builds the protected set from the ECS agent introspection API (the
#     containers of every task the agent knows, their task ARNs, the agent's own
#     container) and stops, without removing anything, when that API fails;
#   - removes exited and dead containers that are not protected and finished
#     more than CC_GRACE_SECONDS ago (`docker rm -v`; a dead one is retried
#     once with -f), then dangling anonymous volumes of the local driver;
#   - on devicemapper, trims the thin devices of running containers with fstrim,
#     one at a time, at idle I/O priority, within a time budget;
#   - measures again and prints one JSON line on stdout.
# Images are left to the ECS agent's own image cleanup.
#
# Inputs (environment):
#   CC_DRY_RUN            true|false       report what would be removed, remove and trim nothing (false)
#   CC_GRACE_SECONDS      0..2592000       keep containers that finished more recently than this (3600)
#   CC_FSTRIM             auto|off|force   auto: trim only on devicemapper; force: whatever the driver (auto)
#   CC_MIN_FREE_PERCENT   0..99            exit 13 when free space is still below this after cleanup (10)
#   CC_LOCK_FILE          absolute path    (/var/run/ecs-caretaker-cleanup.lock)
#   CC_INTROSPECTION_URL  ECS agent tasks  (http://localhost:51678/v1/tasks)
#   CC_DOCKER_TIMEOUT     1..3600 s        deadline of each docker and curl call (60)
#   CC_FSTRIM_BUDGET      0..86400 s       time for all fstrim runs together (300)
#   CC_INSTANCE_ID        instance id for the report; else IMDSv2, else hostname
#   CC_IMDS_URL           (http://169.254.169.254)
#
# Exit codes:
#   0    done
#   1    unexpected internal error (the JSON line says where)
#   2    bad input value
#   10   Docker did not answer in time, or failed to list; nothing more was removed
#   11   ECS agent introspection unavailable; nothing was removed
#   12   at least one container, volume or fstrim operation failed
#   13   free space still below CC_MIN_FREE_PERCENT after cleanup (wins over 12)
#   14   another run holds the lock; this one did nothing
#   129/130/143  stopped by SIGHUP/SIGINT/SIGTERM
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
# no namerefs, no EPOCHSECONDS, no jq.

set -Eeuo pipefail
export LC_ALL=C TZ=UTC

# Everything but the report goes to stderr, so that no stray output from a
# command can break the one-line contract.
exec 3>&1 1>&2

readonly EX_OK=0 EX_INTERNAL=1 EX_USAGE=2 EX_DOCKER=10 EX_INTROSPECTION=11
readonly EX_CLEANUP=12 EX_LOW_SPACE=13 EX_LOCKED=14
readonly MAX_LINE=2000 MAX_ERROR_MESSAGES=5 MAX_ERROR_LENGTH=200
readonly INSPECT_BATCH=200 RM_BATCH=25
readonly LB='{''{' RB='}''}' TAB=$'\t'

started=$SECONDS
exit_code=""
err_line=""
work=""
instance=""
driver="unknown"
docker_dead=0
cleanup_failures=0
error_count=0
error_msgs=()

free_before="" free_after="" pct_before="" pct_after=""
inodes_before="" inodes_after="" meta_before="" meta_after=""
trimmed_bytes=0 reclaimed=""
sysdf_before="null" sysdf_after="null"
c_removed=0 c_would=0 c_skipped=0 c_protected=0 c_failed=0
v_removed=0 v_would=0 v_skipped=0 v_failed=0
t_enabled=false t_runs=0 t_would=0 t_skipped=0 t_failed=0 t_budget_exhausted=false

DRY_RUN=${CC_DRY_RUN:-false}
GRACE=${CC_GRACE_SECONDS:-3600}
FSTRIM=${CC_FSTRIM:-auto}
MIN_FREE=${CC_MIN_FREE_PERCENT:-10}
LOCK_FILE=${CC_LOCK_FILE:-/var/run/ecs-caretaker-cleanup.lock}
INTROSPECTION_URL=${CC_INTROSPECTION_URL:-http://localhost:51678/v1/tasks}
DOCKER_TIMEOUT=${CC_DOCKER_TIMEOUT:-60}
FSTRIM_BUDGET=${CC_FSTRIM_BUDGET:-300}
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
    13) echo low-space ;; 14) echo locked ;; 129 | 130 | 143) echo terminated ;;
    *) echo internal-error ;;
  esac
}

report_line() { # code, number of error messages to include
  local code=$1 n=$2 i errs=""
  for ((i = 0; i < n; i++)); do
    errs+="${errs:+,}$(json_str "${error_msgs[i]}")"
  done
  printf '{"v":1,"instance":%s,"driver":%s,"dryRun":%s,"exitCode":%s,"status":"%s",' \
    "$(json_str "$instance")" "$(json_str "$driver")" "$([[ $DRY_RUN == true ]] && echo true || echo false)" \
    "$code" "$(status_name "$code")"
  printf '"freeBytesBefore":%s,"freeBytesAfter":%s,"reclaimedBytes":%s,"trimmedBytes":%s,' \
    "$(jnum "$free_before")" "$(jnum "$free_after")" "$(jnum "$reclaimed")" "$(jnum "$trimmed_bytes")"
  printf '"freePercentBefore":%s,"freePercentAfter":%s,"minFreePercent":%s,' \
    "$(jnum "$pct_before")" "$(jnum "$pct_after")" "$(jnum "$MIN_FREE")"
  printf '"freeInodesBefore":%s,"freeInodesAfter":%s,"metadataFreeBytesBefore":%s,"metadataFreeBytesAfter":%s,' \
    "$(jnum "$inodes_before")" "$(jnum "$inodes_after")" "$(jnum "$meta_before")" "$(jnum "$meta_after")"
  printf '"containers":{"removed":%s,"wouldRemove":%s,"skipped":%s,"protected":%s,"failed":%s},' \
    "$c_removed" "$c_would" "$c_skipped" "$c_protected" "$c_failed"
  printf '"volumes":{"removed":%s,"wouldRemove":%s,"skipped":%s,"failed":%s},' \
    "$v_removed" "$v_would" "$v_skipped" "$v_failed"
  printf '"trim":{"enabled":%s,"runs":%s,"wouldRun":%s,"skipped":%s,"failed":%s,"budgetExhausted":%s},' \
    "$t_enabled" "$t_runs" "$t_would" "$t_skipped" "$t_failed" "$t_budget_exhausted"
  printf '"dockerDf":{"before":%s,"after":%s},' "$sysdf_before" "$sysdf_after"
  printf '"errorCount":%s,"errors":[%s],"durationSeconds":%s}' \
    "$error_count" "$errs" "$((SECONDS - started))"
}

finish() {
  local rc=$? code line n
  # A signal now must not cut the report short.
  trap - EXIT
  trap '' HUP INT TERM
  set +e
  if [[ -n $exit_code ]]; then
    code=$exit_code
  else
    code=$EX_INTERNAL
    note_error "internal error: exit status $rc${err_line:+ at line $err_line}"
  fi
  n=${#error_msgs[@]}
  line=$(report_line "$code" "$n")
  # Drop error messages until the line fits; the count still says how many.
  while ((${#line} > MAX_LINE && n > 0)); do
    n=$((n - 1))
    line=$(report_line "$code" "$n")
  done
  if ((${#line} > MAX_LINE)); then
    line=$(printf '{"v":1,"instance":%s,"exitCode":%s,"status":"%s","errorCount":%s,"truncated":true}' \
      "$(json_str "${instance:0:64}")" "$code" "$(status_name "$code")" "$error_count")
  fi
  printf '%s\n' "$line" >&3
  if [[ -n $work ]]; then rm -rf -- "$work"; fi
  exit "$code"
}

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

# Children must not inherit the report descriptor (3) nor the lock (9): a hung
# child would otherwise keep the lock, or SSM's stdout, open after we exit.
run_limited() { # seconds, command...
  local secs=$1
  shift
  timeout -k 5 "$secs" "$@" 3>&- 9>&-
}

dk() {
  if ((docker_dead)); then return 124; fi
  run_limited "$DOCKER_TIMEOUT" docker "$@"
}

timed_out() { [[ $1 == 124 || $1 == 137 ]]; }

first_lines() { # file, count: joined with " | "
  head -n "$2" -- "$1" 2>/dev/null | tr '\n' '|' | sed 's/|$//; s/|/ | /g'
}

resolve_instance() {
  local token id=""
  if [[ -n ${CC_INSTANCE_ID:-} ]]; then
    id=$CC_INSTANCE_ID
  elif token=$(run_limited 5 curl -sS --fail --max-time 2 -X PUT \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$IMDS_URL/latest/api/token" 2>/dev/null) &&
    id=$(run_limited 5 curl -sS --fail --max-time 2 \
      -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/meta-data/instance-id" 2>/dev/null) &&
    [[ $id =~ ^i-[0-9a-f]+$ ]]; then
    :
  else
    id=${HOSTNAME:-unknown}
  fi
  instance=$(sanitize "$id" 64)
}

validate() {
  local bad=()
  [[ $DRY_RUN =~ ^(true|false)$ ]] || bad+=("CC_DRY_RUN must be true or false")
  if [[ ! $GRACE =~ ^[0-9]{1,7}$ ]] || ((10#$GRACE > 2592000)); then
    bad+=("CC_GRACE_SECONDS must be an integer from 0 to 2592000")
  fi
  [[ $FSTRIM =~ ^(auto|off|force)$ ]] || bad+=("CC_FSTRIM must be auto, off or force")
  [[ $MIN_FREE =~ ^[0-9]{1,2}$ ]] || bad+=("CC_MIN_FREE_PERCENT must be an integer from 0 to 99")
  if [[ ! $DOCKER_TIMEOUT =~ ^[1-9][0-9]{0,3}$ ]] || ((DOCKER_TIMEOUT > 3600)); then
    bad+=("CC_DOCKER_TIMEOUT must be an integer from 1 to 3600")
  fi
  if [[ ! $FSTRIM_BUDGET =~ ^[0-9]{1,5}$ ]] || ((10#$FSTRIM_BUDGET > 86400)); then
    bad+=("CC_FSTRIM_BUDGET must be an integer from 0 to 86400")
  fi
  [[ $LOCK_FILE == /* ]] || bad+=("CC_LOCK_FILE must be an absolute path")
  [[ $INTROSPECTION_URL =~ ^https?:// ]] || bad+=("CC_INTROSPECTION_URL must be an http(s) URL")
  if ((${#bad[@]})); then
    local b
    # Bad values are not echoed: they could be anything.
    for b in "${bad[@]}"; do note_error "usage: $b"; done
    exit_code=$EX_USAGE
    exit "$EX_USAGE"
  fi
  GRACE=$((10#$GRACE))
  MIN_FREE=$((10#$MIN_FREE))
  FSTRIM_BUDGET=$((10#$FSTRIM_BUDGET))
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
  info=$(dk info 2>"$work/err") || rc=$?
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
      out=$(run_limited 30 lvs --noheadings --nosuffix --units b --separator '|' \
        -o lv_size,data_percent,lv_metadata_size,metadata_percent "$vg/$lv" 2>"$work/err") &&
      read -r m_free m_pct m_meta mpct < <(awk -F'|' 'NR == 1 {
        for (i = 1; i <= 4; i++) gsub(/[ \t]/, "", $i)
        if ($1 == "" || $2 == "" || $3 == "" || $4 == "") exit
        dp = 100 - $2; mp = 100 - $4
        printf "%.0f %d %.0f %d\n", $1 * dp / 100, dp, $3 * mp / 100, mp
      }' <<<"$out"); then
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
        note_error "no thin pool figures ($phase)"
      fi
    fi
  else
    root=$(info_value "Docker Root Dir" "$info")
    [[ $root == /* ]] || root=/var/lib/docker
    local size iavail itotal
    if out=$(run_limited 30 df -P -B1 -- "$root" 2>"$work/err") &&
      read -r size avail < <(awk 'NR == 2 { print $2, $4 }' <<<"$out") &&
      [[ $size =~ ^[0-9]+$ && $avail =~ ^[0-9]+$ ]] && ((size > 0)); then
      m_free=$avail
      m_pct=$((avail * 100 / size))
    else
      note_error "df $root failed ($phase): $(first_lines "$work/err" 1)"
    fi
    if out=$(run_limited 30 df -P -i -- "$root" 2>"$work/err") &&
      read -r itotal iavail < <(awk 'NR == 2 { print $2, $4 }' <<<"$out") &&
      [[ $itotal =~ ^[0-9]+$ && $iavail =~ ^[0-9]+$ ]]; then
      m_inodes=$iavail
      # Some filesystems (btrfs) report no inode limit at all.
      if ((itotal > 0)) && [[ -n $m_pct ]] && ((iavail * 100 / itotal < m_pct)); then
        m_pct=$((iavail * 100 / itotal))
      fi
    fi
  fi
}

# Sizes from `docker system df` as a JSON object (or null) into the named variable.
docker_df() {
  local out rc=0 obj
  out=$(dk system df --format "${LB}.Type${RB}|${LB}.Size${RB}" 2>"$work/err") || rc=$?
  if ((rc)); then
    if timed_out "$rc"; then
      note_error "docker system df did not answer within ${DOCKER_TIMEOUT}s"
    else
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
    }' <<<"$out")
  printf -v "$1" '%s' "$obj"
}

declare -A protected_ids=() protected_arns=()

load_protected_set() {
  local body rc=0 id arn n_ids=0
  body=$(run_limited "$DOCKER_TIMEOUT" curl -sS --fail --max-time "$DOCKER_TIMEOUT" "$INTROSPECTION_URL" 2>"$work/err") || rc=$?
  if ((rc)); then
    die "$EX_INTROSPECTION" "ECS agent introspection failed (exit $rc): $(first_lines "$work/err" 1)"
  fi
  if ! grep -qE '"Tasks"[[:space:]]*:' <<<"$body"; then
    die "$EX_INTROSPECTION" "ECS agent introspection returned no Tasks list"
  fi
  while read -r id; do
    [[ -n $id ]] || continue
    protected_ids[$id]=1
    n_ids=$((n_ids + 1))
  done < <(grep -oE '"DockerId"[[:space:]]*:[[:space:]]*"[0-9a-fA-F]+"' <<<"$body" |
    sed -E 's/.*"([0-9a-fA-F]+)"$/\1/' | tr 'A-F' 'a-f' || true)
  while read -r arn; do
    if [[ -n $arn ]]; then protected_arns[$arn]=1; fi
  done < <(grep -oE '"Arn"[[:space:]]*:[[:space:]]*"arn:[^"]*:task/[^"]*"' <<<"$body" |
    sed -E 's/.*"(arn:[^"]*)"$/\1/' || true)
  log "introspection: ${#protected_arns[@]} tasks, $n_ids containers protected"
}

# Container table, one line per container: id, status, pid, finishedAt,
# created, name, task ARN label (tab-separated).
list_containers() {
  local ids=() rc=0 i chunk out
  local fmt="${LB}.Id${RB}${TAB}${LB}.State.Status${RB}${TAB}${LB}.State.Pid${RB}${TAB}"
  fmt+="${LB}.State.FinishedAt${RB}${TAB}${LB}.Created${RB}${TAB}${LB}.Name${RB}${TAB}"
  fmt+="${LB}index .Config.Labels \"com.amazonaws.ecs.task-arn\"${RB}"
  out=$(dk ps -a -q --no-trunc 2>"$work/err") || rc=$?
  if ((rc)); then
    if timed_out "$rc"; then docker_dead=1; fi
    die "$EX_DOCKER" "docker ps failed (exit $rc): $(first_lines "$work/err" 1)"
  fi
  mapfile -t ids < <(grep -E '^[0-9a-f]+$' <<<"$out" || true)
  : >"$work/containers"
  for ((i = 0; i < ${#ids[@]}; i += INSPECT_BATCH)); do
    chunk=("${ids[@]:i:INSPECT_BATCH}")
    rc=0
    dk inspect --format "$fmt" "${chunk[@]}" >>"$work/containers" 2>"$work/err" || rc=$?
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
  done
  log "docker: ${#ids[@]} containers"
}

# Removes the given containers in batches; sets rm_ok/rm_gone/rm_bad (ids)
# and keeps the first daemon error message in last_rm_error.
remove_containers() { # force(0|1), ids...
  local force=$1 i rc id
  shift
  local all=("$@") chunk
  local -A done_ids gone_ids
  rm_ok=() rm_gone=() rm_bad=()
  for ((i = 0; i < ${#all[@]}; i += RM_BATCH)); do
    chunk=("${all[@]:i:RM_BATCH}")
    rc=0
    if ((force)); then
      dk rm -v -f "${chunk[@]}" >"$work/out" 2>"$work/err" || rc=$?
    else
      dk rm -v "${chunk[@]}" >"$work/out" 2>"$work/err" || rc=$?
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

declare -A is_dead=()
running_pids=()

clean_containers() {
  local now cutoff id status pid finished created name arn t key epoch
  local candidates=() 
  declare -A live_arns=()
  now=$(date -u +%s)
  cutoff=$(date -u -d "@$((now - GRACE))" +%Y-%m-%dT%H:%M:%S)
  # Any task with a container still alive is live, even when the agent has
  # forgotten it: its exited containers stay (first pass collects those ARNs).
  while IFS=$TAB read -r id status pid finished created name arn; do
    case $status in
      exited | dead) ;;
      *) if [[ -n $arn && $arn != "<no value>" ]]; then live_arns[$arn]=1; fi ;;
    esac
  done <"$work/containers"

  while IFS=$TAB read -r id status pid finished created name arn; do
    [[ -n $id ]] || continue
    if [[ $arn == "<no value>" ]]; then arn=""; fi
    if [[ $status == running && $pid =~ ^[1-9][0-9]*$ ]]; then
      running_pids+=("$pid")
    fi
    if [[ -n ${protected_ids[$id]+x} || ${name#/} == ecs-agent ]] ||
      [[ -n $arn && ( -n ${protected_arns[$arn]+x} || -n ${live_arns[$arn]+x} ) ]]; then
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
    # Docker reports a zero FinishedAt for containers that never ran; their
    # creation time is then the best age we have.
    t=$finished
    if [[ $t == 0001-01-01T* ]]; then t=$created; fi
    if [[ $t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ && $t != 0001-01-01T* ]]; then
      # UTC RFC 3339 timestamps compare as strings: no fork per container.
      key=${t:0:19}
      if [[ ! $key < $cutoff ]]; then
        c_skipped=$((c_skipped + 1))
        continue
      fi
    elif epoch=$(date -u -d "$t" +%s 2>/dev/null) && [[ $t != 0001-01-01T* ]]; then
      if ((epoch > now - GRACE)); then
        c_skipped=$((c_skipped + 1))
        continue
      fi
    else
      log "keeping ${id:0:12}: no usable finish time"
      c_skipped=$((c_skipped + 1))
      continue
    fi
    candidates+=("$id")
    if [[ $status == dead ]]; then is_dead[$id]=1; fi
  done <"$work/containers"

  if ((${#candidates[@]} == 0)); then
    log "containers: nothing to remove"
    return 0
  fi
  if [[ $DRY_RUN == true ]]; then
    c_would=${#candidates[@]}
    log "dry run: would remove ${#candidates[@]} containers"
    return 0
  fi

  last_rm_error=""
  remove_containers 0 "${candidates[@]}"
  c_removed=${#rm_ok[@]}
  c_skipped=$((c_skipped + ${#rm_gone[@]}))
  local retry=() failed=()
  if ((${#rm_bad[@]})); then
    for id in "${rm_bad[@]}"; do
      if [[ -n ${is_dead[$id]+x} ]] && ((!docker_dead)); then retry+=("$id"); else failed+=("$id"); fi
    done
  fi
  if ((${#retry[@]})); then
    log "retrying ${#retry[@]} dead containers with --force"
    remove_containers 1 "${retry[@]}"
    c_removed=$((c_removed + ${#rm_ok[@]}))
    c_skipped=$((c_skipped + ${#rm_gone[@]}))
    if ((${#rm_bad[@]})); then failed+=("${rm_bad[@]}"); fi
  fi
  if ((${#failed[@]})); then
    c_failed=${#failed[@]}
    cleanup_failures=$((cleanup_failures + ${#failed[@]}))
    note_error "docker rm failed for ${#failed[@]} containers (first ${failed[0]:0:12}): ${last_rm_error:-no message}"
  fi
  log "containers: removed $c_removed, failed $c_failed"
}

clean_volumes() {
  local out rc=0 name drv candidates=() i chunk
  out=$(dk volume ls -f dangling=true --format "${LB}.Name${RB}${TAB}${LB}.Driver${RB}" 2>"$work/err") || rc=$?
  if ((rc)); then
    if timed_out "$rc"; then
      docker_dead=1
      note_error "docker volume ls did not answer within ${DOCKER_TIMEOUT}s"
    else
      note_error "docker volume ls failed (exit $rc): $(first_lines "$work/err" 1)"
    fi
    return 0
  fi
  while IFS=$TAB read -r name drv; do
    [[ -n $name ]] || continue
    # Named volumes may be reused by a later task; only anonymous ones (64 hex
    # characters) of the local driver are garbage for sure.
    if [[ $drv == local && $name =~ ^[0-9a-f]{64}$ ]]; then
      candidates+=("$name")
    else
      v_skipped=$((v_skipped + 1))
    fi
  done <<<"$out"
  if ((${#candidates[@]} == 0)); then
    return 0
  fi
  if [[ $DRY_RUN == true ]]; then
    v_would=${#candidates[@]}
    log "dry run: would remove ${#candidates[@]} volumes"
    return 0
  fi
  local first_error=""
  local -A done_names
  for ((i = 0; i < ${#candidates[@]}; i += RM_BATCH)); do
    chunk=("${candidates[@]:i:RM_BATCH}")
    rc=0
    dk volume rm "${chunk[@]}" >"$work/out" 2>"$work/err" || rc=$?
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
      elif grep -qiE "$name.*(in use|no such volume)" "$work/err"; then
        # Taken by a new container, or removed by someone else, since the listing.
        v_skipped=$((v_skipped + 1))
      else
        v_failed=$((v_failed + 1))
        cleanup_failures=$((cleanup_failures + 1))
        if [[ -z $first_error ]]; then first_error="${name:0:12}: $(first_lines "$work/err" 1)"; fi
      fi
    done
  done
  if [[ -n $first_error ]]; then note_error "docker volume rm failed for $v_failed volumes: $first_error"; fi
  log "volumes: removed $v_removed, skipped $v_skipped, failed $v_failed"
}

trim_running() {
  if [[ $FSTRIM == off ]] || [[ $FSTRIM == auto && $driver != devicemapper ]]; then
    return 0
  fi
  t_enabled=true
  local n=${#running_pids[@]} pid i left out rc bytes first_error="" ionice_cmd=()
  ((n)) || return 0
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
      out=$(run_limited "$left" "${ionice_cmd[@]}" fstrim -v "/proc/$pid/root/" 2>"$work/err") || rc=$?
    else
      out=$(run_limited "$left" fstrim -v "/proc/$pid/root/" 2>"$work/err") || rc=$?
    fi
    if ((rc == 0)); then
      t_runs=$((t_runs + 1))
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
    elif grep -q 'No such file or directory' "$work/err"; then
      # The container stopped since it was listed.
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
  resolve_instance
  validate
  work=$(mktemp -d "${TMPDIR:-/tmp}/ecs-caretaker-cleanup.XXXXXX")
  take_lock
  log "start: dryRun=$DRY_RUN graceSeconds=$GRACE fstrim=$FSTRIM minFreePercent=$MIN_FREE"

  measure before
  free_before=$m_free pct_before=$m_pct inodes_before=$m_inodes meta_before=$m_meta
  docker_df sysdf_before
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
  elif [[ -n $pct_after ]] && ((pct_after < MIN_FREE)); then
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
