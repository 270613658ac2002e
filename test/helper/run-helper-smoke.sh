#!/usr/bin/env bash
# Smoke tests of native/build/jai-helper against the real kernel, as root, with a throw-away unprivileged user.
# Drives the helper exactly as jaid does (test/helper/drive.py: plan on fd 0, SEQPACKET status socket on fd 3,
# grant and stdio fds after it) and checks what the jailed program sees and what lands on the host.
#
#   sudo test/helper/run-helper-smoke.sh            # builds the helper, runs every check
#   SANITIZE=1 test/helper/run-helper-smoke.sh       # the same against an ASan/UBSan build (rebuilt normally after)
#   JAI_SMOKE_NO_BUILD=1 ...                         # use native/build/jai-helper as it is
#   JAI_SMOKE_ZYGOTE=1 ...                           # every helper forked by `jai-helper --zygote`, as jaid runs them
#   JAI_SMOKE_KEEP_WORK=1 ...                        # keep the plans, records and outputs (printed at the end)
#
# Exit status: 0 when every check passed. Leaves no mounts under /run/jai/<user> and no processes of the user.
set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HELPER=$ROOT/native/build/jai-helper
DRIVE=$ROOT/test/helper/drive.py
U=${JAI_SMOKE_USER:-jaihelpertest}
WORK=$(mktemp -d /tmp/jai-helper-smoke.XXXXXX)
OUTSIDE=/var/lib/jai-smoke-0600 # a 0600 file of the user outside every grant (strict: unreadable to the sandbox user)
STORE2=/var/lib/jai-smoke-store # a storage dir outside the home: the strict jail shows it (read-only root)
TRACEFS=/sys/kernel/tracing
TRACE_INST= # the tracefs instance of the vfork checks while it exists
TRACEFS_MOUNTED= # set when this script mounted tracefs
SUID_DUMPABLE=$(cat /proc/sys/fs/suid_dumpable)
PASS=0
FAIL=0
FAILED=()
LISTENER= # the host's TCP listener on 127.0.0.1 (network checks)
MOUNTS_MADE=() # mounts the test makes outside /run/jai (unmounted on exit)
CGROUPS_MADE=() # throw-away cgroup dirs (rmdir'ed once empty) and plain dirs/links under /sys/fs/cgroup (removed)

if [ "$(id -u)" != 0 ]; then
	echo "run-helper-smoke.sh: must run as root" >&2
	exit 2
fi

cleanup_state() {
	# Everything the helper may have mounted for the test user, deepest first, then the state itself.
	if [ -d "/run/jai/$U" ]; then
		awk -v p="/run/jai/$U" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo |
			sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
		rm -rf "/run/jai/$U"
	fi
}

cleanup_cgroups() {
	local cg
	for cg in "${CGROUPS_MADE[@]}"; do
		if [ -L "$cg" ] || [ "$(stat -f -c %T "$cg" 2>/dev/null)" = tmpfs ]; then
			rm -rf "$cg"
			continue
		fi
		# A cgroup goes once its processes are gone (a killed jail's may take a moment).
		for _ in $(seq 50); do
			[ -d "$cg" ] || break
			rmdir "$cg" 2>/dev/null && break
			sleep 0.1
		done
	done
}

trace_remove() {
	[ -n "$TRACE_INST" ] && [ -d "$TRACE_INST" ] || return 0
	echo 0 >"$TRACE_INST/tracing_on"
	echo 0 >"$TRACE_INST/events/task/task_newtask/enable"
	echo 0 >"$TRACE_INST/events/syscalls/sys_enter_setresuid/enable"
	echo 0 >"$TRACE_INST/events/syscalls/sys_enter_prctl/enable"
	rmdir "$TRACE_INST"
}

cleanup() {
	echo "$SUID_DUMPABLE" >/proc/sys/fs/suid_dumpable
	trace_remove
	[ -n "$TRACEFS_MOUNTED" ] && umount "$TRACEFS"
	pkill -KILL -u "$U" 2>/dev/null
	[ -n "${SUID:-}" ] && pkill -KILL -u "$SUID" 2>/dev/null
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	cleanup_cgroups
	for m in "${MOUNTS_MADE[@]}"; do umount -l "$m" 2>/dev/null; done
	cleanup_state
	if [ -n "${JAI_SMOKE_KEEP_WORK:-}" ]; then echo "plans, records and outputs kept in $WORK"; else rm -rf "$WORK"; fi
	rm -rf /tmp/jai-smoke-hostfile /tmp/jai-smoke-initjail /tmp/jai-smoke-victim "$OUTSIDE" "$STORE2"
	rmdir /var/lib/jai-smoke-tmpstore 2>/dev/null
}
trap cleanup EXIT

# --- build ------------------------------------------------------------------------------------------------------
if [ -z "${JAI_SMOKE_NO_BUILD:-}" ]; then
	rm -f "$HELPER"
	if [ "${SANITIZE:-}" = 1 ]; then
		make -s -C "$ROOT/native" build/jai-helper SANITIZE=1 || exit 1
	else
		make -s -C "$ROOT/native" build/jai-helper SANITIZE=0 || exit 1
	fi
fi
# ASan: no leak check (the helper exits with _exit by design), abort on the first report.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# --- the test user and their files -------------------------------------------------------------------------------
id "$U" >/dev/null 2>&1 || useradd -m -s /bin/bash "$U" || exit 1
UID_=$(id -u "$U")
GID_=$(id -g "$U")
H=$(getent passwd "$U" | cut -d: -f6)
USHELL=$(getent passwd "$U" | cut -d: -f7)
# Strict mode's untrusted account, as systemd-sysusers would create it (systemd/sysusers.d/jai.conf).
getent passwd jai >/dev/null || useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin \
	--comment "JAI sandbox untrusted user" jai || exit 1
JUID=$(id -u jai)
JGID=$(id -g jai)
# The test user's own sandbox ids (jaid's default --sandbox-id-base and --sandbox-id-count): strict runs as these,
# named jai in the jail's passwd and group copies.
SBASE=1879048192
SCOUNT=268435456
SUID=$((SBASE + UID_))
pkill -KILL -u "$U" 2>/dev/null
cleanup_state
rm -rf "$H/.jai" "$H/proj" "$H/ro-dir" "$H/newfile" "$H/realfile" "$H/.secret"
install -d -o "$U" -g "$GID_" -m 0755 "$H/proj" "$H/ro-dir" "$H/.secret"
echo real >"$H/realfile" && chown "$U:" "$H/realfile"
echo key >"$H/.secret/key" && chown "$U:" "$H/.secret/key"
echo ro >"$H/ro-dir/file" && chown "$U:" "$H/ro-dir/file"
echo secret >"$H/ro-dir/secret" && chown "$U:" "$H/ro-dir/secret" && chmod 0600 "$H/ro-dir/secret"
echo host >/tmp/jai-smoke-hostfile
rm -rf "$OUTSIDE" && install -d -m 0755 "$OUTSIDE" && echo outside >"$OUTSIDE/secret" && chown "$U:" "$OUTSIDE/secret" &&
	chmod 0600 "$OUTSIDE/secret"
rm -rf "$STORE2" && install -d -o "$U" -g "$GID_" -m 0700 "$STORE2"

# --- helpers ------------------------------------------------------------------------------------------------------
ENV_PATH=PATH=/usr/local/bin:/usr/bin:/bin
base() { # the keys every plan has, minus cwd/grants/argv/stdio; MODE=strict adds the sandbox account's keys
	printf '%s\0' op run mode "${MODE:-casual}" user "$U" uid "$UID_" gid "$GID_" group "$GID_" home "$H" \
		jail "${JAIL:-default}" storage "${STORAGE:-$H/.jai}" config_dir "$H/.jai" umask "${UMASK:-022}" status_fd 3 env "$ENV_PATH"
	if [ "${MODE:-}" = strict ]; then
		printf '%s\0' sandbox_user jai sandbox_uid "$SUID" sandbox_gid "$SUID" sandbox_id_base "$SBASE" \
			sandbox_id_count "$SCOUNT" shell "$USHELL"
	fi
}
# mkplan FILE KEY VALUE ...: magic, base keys, the given pairs, end.
mkplan() {
	local out=$1
	shift
	{
		printf '%s\0' jai-plan-1
		base
		[ $# -gt 0 ] && printf '%s\0' "$@"
		printf '%s\0' end
	} >"$out"
}
# tdplan FILE KEY VALUE ...: an op teardown plan (mode $MODE, casual by default) with the given pairs (e.g. jail J).
tdplan() {
	local out=$1
	shift
	{
		printf '%s\0' jai-plan-1 op teardown mode "${MODE:-casual}" user "$U" uid "$UID_" gid "$GID_" home "$H" \
			storage "$H/.jai" status_fd 3
		[ $# -gt 0 ] && printf '%s\0' "$@"
		printf '%s\0' end
	} >"$out"
}
# A standard program run: cwd grant of ~/proj on fd 4, stdin null, stdout fd 5, stderr fd 6; argv as given.
run_prog() { # NAME ARGV... → $WORK/NAME.{out,rec,err}, sets RC
	local name=$1
	shift
	local args=()
	for a in "$@"; do args+=(argv "$a"); done
	mkplan "$WORK/$name.plan" cwd "$H/proj" grant "cwd:4:$H/proj" "${args[@]}" stdin null stdout fd:5 stderr fd:6
	drive "$name" --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
}
drive() { # NAME DRIVE-ARGS... (plan in $WORK/NAME.plan)
	local name=$1
	shift
	python3 "$DRIVE" --helper "$HELPER" --plan "$WORK/$name.plan" --records "$WORK/$name.rec" \
		--as-uid "$UID_" --as-gid "$GID_" ${JAI_SMOKE_ZYGOTE:+--zygote} "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
	RC=$?
}
ok() { # DESCRIPTION COMMAND...: a check
	local what=$1
	shift
	if "$@"; then
		PASS=$((PASS + 1))
		printf 'ok   %s\n' "$what"
	else
		FAIL=$((FAIL + 1))
		FAILED+=("$what")
		printf 'FAIL %s\n' "$what"
	fi
}
rc_is() { [ "$RC" = "$1" ] || { echo "     rc=$RC, expected $1; stderr: $(head -c 600 "$WORK/$2.err")" >&2; return 1; }; }
out_is() { [ "$(cat "$WORK/$1.out")" = "$2" ] || { echo "     out=$(head -c 600 "$WORK/$1.out")" >&2; return 1; }; }
out_has() { grep -q -- "$2" "$WORK/$1.out" || { echo "     out=$(head -c 600 "$WORK/$1.out")" >&2; return 1; }; }
out_lacks() { ! grep -q -- "$2" "$WORK/$1.out" || { echo "     out=$(head -c 600 "$WORK/$1.out")" >&2; return 1; }; }
rec_is() { [ "$(cat "$WORK/$1.rec")" = "$2" ] || { echo "     records=$(cat "$WORK/$1.rec")" >&2; return 1; }; }
rec_line() { [ "$(sed -n "${2}p" "$WORK/$1.rec")" = "$3" ] || { echo "     records=$(cat "$WORK/$1.rec")" >&2; return 1; }; }
rec_match() { sed -n "${2}p" "$WORK/$1.rec" | grep -Eq -- "$3" || { echo "     records=$(cat "$WORK/$1.rec")" >&2; return 1; }; }
rec_has() { grep -qxF -- "$2" "$WORK/$1.rec" || { echo "     records=$(cat "$WORK/$1.rec")" >&2; return 1; }; }
rec_lacks() { ! grep -q -- "$2" "$WORK/$1.rec" || { echo "     records=$(cat "$WORK/$1.rec")" >&2; return 1; }; }
rec_last() { [ "$(tail -n 1 "$WORK/$1.rec")" = "$2" ] || { echo "     records=$(cat "$WORK/$1.rec")" >&2; return 1; }; }
# Records with the started PID replaced by "started", on one line.
rec_flat() { sed 's/^started [0-9]*$/started/' "$WORK/$1.rec" | tr '\n' '|'; }
rec_seq() { [ "$(rec_flat "$1")" = "$2" ] || { echo "     records=$(rec_flat "$1")" >&2; return 1; }; }
rec_seq_re() { rec_flat "$1" | grep -Eqx -- "$2" || { echo "     records=$(rec_flat "$1")" >&2; return 1; }; }
mounts_under() { awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo; }
is_mounted() { [ -n "$(awk -v p="$1" '$5 == p' /proc/self/mountinfo)" ]; }
no_state() { [ ! -e "/run/jai/$U" ] || { echo "     /run/jai/$U exists" >&2; return 1; }; }

# --- bad plans: refused before anything is done --------------------------------------------------------------------
bad_plan() { # NAME EXPECTED-MESSAGE-REGEX: run $WORK/NAME.plan, expect 125 with one error record and no state
	drive "$1" --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
	ok "bad plan $1: exit 125" rc_is 125 "$1"
	ok "bad plan $1: one error record" rec_match "$1" 1 "^error 125 (plan|fds): $2"
	ok "bad plan $1: nothing created or mounted" no_state
}
STD=(cwd "$H/proj" grant "cwd:4:$H/proj" argv true stdin null stdout fd:5 stderr fd:6)
mkplan "$WORK/unknown-key.plan" "${STD[@]}" frobnicate 1
bad_plan unknown-key 'unknown key "frobnicate"'
mkplan "$WORK/oversized-value.plan" "${STD[@]}" argv "$(head -c 65537 /dev/zero | tr '\0' x)"
bad_plan oversized-value 'argv: value longer than 65536 bytes'
{ printf '%s\0' jai-plan-1; base | sed -z "s/^$UID_\$/0/"; printf '%s\0' "${STD[@]}" end; } >"$WORK/uid0.plan"
bad_plan uid0 'uid: invalid uid "0"'
mkplan "$WORK/relative-cwd.plan" cwd proj grant "cwd:4:$H/proj" argv true stdin null stdout fd:5 stderr fd:6
bad_plan relative-cwd 'cwd: not an absolute canonical path'
mkplan "$WORK/dotdot-grant.plan" cwd "$H/proj" grant "cwd:4:$H/proj/../proj" argv true stdin null stdout fd:5 stderr fd:6
bad_plan dotdot-grant 'grant: invalid grant'
JAIL=../x mkplan "$WORK/jail-traversal.plan" "${STD[@]}"
bad_plan jail-traversal 'jail: \.\./x: invalid sandbox name'
{ printf '%s\0' jai-plan-1; base; printf '%s\0' "${STD[@]}"; } >"$WORK/no-end.plan"
bad_plan no-end 'truncated plan \(no end\)'
{ printf '%s\0' jai-plan-1; base; printf '%s\0' "${STD[@]}" end; printf 'x'; } >"$WORK/trailing.plan"
bad_plan trailing 'trailing bytes after end'
mkplan "$WORK/repeated.plan" "${STD[@]}" home /tmp
bad_plan repeated 'home: repeated'
mkplan "$WORK/missing-argv.plan" cwd "$H/proj" grant "cwd:4:$H/proj" stdin null stdout fd:5 stderr fd:6
bad_plan missing-argv 'missing key argv'
mkplan "$WORK/pty-no-size.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv true stdin pty stdout fd:5 stderr fd:6
bad_plan pty-no-size 'pty_rows and pty_cols are required'
mkplan "$WORK/strict-no-account.plan" "${STD[@]}"
sed -z -i 's/^casual$/strict/' "$WORK/strict-no-account.plan"
bad_plan strict-no-account 'missing key sandbox_user'
mkplan "$WORK/casual-sandbox-uid.plan" "${STD[@]}" sandbox_uid "$SUID"
bad_plan casual-sandbox-uid 'sandbox_uid: not allowed with mode casual'
MODE=bare mkplan "$WORK/bare-shell.plan" "${STD[@]}" shell /bin/sh
bad_plan bare-shell 'shell: not allowed with mode bare'
MODE=strict mkplan "$WORK/strict-mask.plan" "${STD[@]}" mask .ssh
bad_plan strict-mask 'mask: not allowed with mode strict'
MODE=bare mkplan "$WORK/bare-mask.plan" "${STD[@]}" mask .ssh
bad_plan bare-mask 'mask: not allowed with mode bare'
MODE=strict mkplan "$WORK/strict-own-uid.plan" "${STD[@]}"
sed -z -i "/^sandbox_uid\$/{n;s/^$SUID\$/$UID_/}" "$WORK/strict-own-uid.plan"
bad_plan strict-own-uid "sandbox_uid: $UID_ is the user's own uid"
MODE=strict mkplan "$WORK/strict-own-gid.plan" "${STD[@]}"
sed -z -i "/^sandbox_gid\$/{n;s/^$SUID\$/$GID_/}" "$WORK/strict-own-gid.plan"
bad_plan strict-own-gid "sandbox_gid: $GID_ is the user's own gid"
MODE=strict mkplan "$WORK/strict-root.plan" "${STD[@]}"
sed -z -i "/^sandbox_uid\$/{n;s/^$SUID\$/0/}" "$WORK/strict-root.plan"
bad_plan strict-root 'sandbox_uid: invalid uid "0"'
# #25: the ids must be this user's own (base + uid), from a range that fits: never the one jai uid of every user.
MODE=strict mkplan "$WORK/strict-shared-uid.plan" "${STD[@]}"
sed -z -i "/^sandbox_uid\$/{n;s/^$SUID\$/$JUID/};/^sandbox_gid\$/{n;s/^$SUID\$/$JGID/}" "$WORK/strict-shared-uid.plan"
bad_plan strict-shared-uid "sandbox_uid: $JUID is not sandbox_id_base \\+ uid \\($SUID\\)"
MODE=strict mkplan "$WORK/strict-other-gid.plan" "${STD[@]}"
sed -z -i "/^sandbox_gid\$/{n;s/^$SUID\$/$((SUID + 1))/}" "$WORK/strict-other-gid.plan"
bad_plan strict-other-gid "sandbox_gid: $((SUID + 1)) is not sandbox_id_base \\+ uid"
MODE=strict mkplan "$WORK/strict-no-range.plan" "${STD[@]}"
sed -z -i '/^sandbox_id_base$/,+1d' "$WORK/strict-no-range.plan"
bad_plan strict-no-range 'missing key sandbox_id_base'
MODE=strict mkplan "$WORK/strict-uid-outside.plan" "${STD[@]}"
sed -z -i "/^sandbox_id_count\$/{n;s/^$SCOUNT\$/$UID_/}" "$WORK/strict-uid-outside.plan"
bad_plan strict-uid-outside "uid: $UID_ is outside the sandbox id range \\(sandbox_id_count $UID_\\)"
MODE=strict mkplan "$WORK/strict-range-overflow.plan" "${STD[@]}"
sed -z -i "/^sandbox_id_count\$/{n;s/^$SCOUNT\$/$((SCOUNT + 1))/}" "$WORK/strict-range-overflow.plan"
bad_plan strict-range-overflow "sandbox_id_base $SBASE \\+ sandbox_id_count $((SCOUNT + 1)): past 2147483647"
mkplan "$WORK/casual-sandbox-range.plan" "${STD[@]}" sandbox_id_base "$SBASE"
bad_plan casual-sandbox-range 'sandbox_id_base: not allowed with mode casual'
MODE=strict mkplan "$WORK/strict-shell-colon.plan" "${STD[@]}"
sed -z -i "/^shell\$/{n;s|^.*\$|/bin/x:0:0|}" "$WORK/strict-shell-colon.plan"
bad_plan strict-shell-colon 'shell: "/bin/x:0:0" is not empty or an absolute path'
tdplan "$WORK/teardown-sandbox.plan" sandbox_user jai
bad_plan teardown-sandbox 'sandbox_user: not allowed with op teardown'
mkplan "$WORK/closed-fd.plan" cwd "$H/proj" grant "cwd:9:$H/proj" argv true stdin null stdout fd:5 stderr fd:6
bad_plan closed-fd 'fcntl\(9, F_GETFD\)'
mkplan "$WORK/jai-script-env.plan" "${STD[@]}" env JAI_SCRIPT=/etc/shadow
bad_plan jai-script-env 'env: JAI_SCRIPT is set by the helper'
mkplan "$WORK/initjail-relative.plan" "${STD[@]}" initjail bin/init
bad_plan initjail-relative 'initjail: not an absolute canonical path: "bin/init"'
mkplan "$WORK/script-twice.plan" "${STD[@]}" script a script b
bad_plan script-twice 'script: repeated'
{ printf '%s\0' jai-plan-1; base | sed -z '/^jail$/,+1d'; printf '%s\0' "${STD[@]}" end; } >"$WORK/run-no-jail.plan"
bad_plan run-no-jail 'missing key jail'
tdplan "$WORK/teardown-argv.plan" argv true
bad_plan teardown-argv 'argv: not allowed with op teardown'
tdplan "$WORK/teardown-env.plan" env A=b
bad_plan teardown-env 'env: not allowed with op teardown'
tdplan "$WORK/teardown-stdin.plan" stdin null
bad_plan teardown-stdin 'stdin: not allowed with op teardown'
MODE=silly tdplan "$WORK/teardown-mode.plan"
bad_plan teardown-mode 'mode: invalid mode "silly"'
{ printf '%s\0' jai-plan-1 op teardown mode casual user "$U" uid "$UID_" gid "$GID_" home "$H" status_fd 3 end; } \
	>"$WORK/teardown-no-storage.plan"
bad_plan teardown-no-storage 'missing key storage'
head -c 1100000 /dev/zero >"$WORK/huge.plan"
bad_plan huge 'plan larger than 1048576 bytes'
mkplan "$WORK/network-bad.plan" "${STD[@]}" network off
bad_plan network-bad 'network: invalid value "off" \(host, loopback or none\)'
mkplan "$WORK/network-twice.plan" "${STD[@]}" network none network none
bad_plan network-twice 'network: repeated'
tdplan "$WORK/teardown-network.plan" network none
bad_plan teardown-network 'network: not allowed with op teardown'
mkplan "$WORK/cgroup-outside.plan" "${STD[@]}" cgroup /tmp/cg
bad_plan cgroup-outside 'cgroup: not an absolute canonical path below /sys/fs/cgroup/: "/tmp/cg"'
mkplan "$WORK/cgroup-dotdot.plan" "${STD[@]}" cgroup /sys/fs/cgroup/../../etc
bad_plan cgroup-dotdot 'cgroup: not an absolute canonical path below /sys/fs/cgroup/'
mkplan "$WORK/cgroup-root.plan" "${STD[@]}" cgroup /sys/fs/cgroup
bad_plan cgroup-root 'cgroup: not an absolute canonical path below /sys/fs/cgroup/'
mkplan "$WORK/cgroup-five.plan" "${STD[@]}" cgroup /sys/fs/cgroup/a cgroup /sys/fs/cgroup/b cgroup /sys/fs/cgroup/c \
	cgroup /sys/fs/cgroup/d cgroup /sys/fs/cgroup/e
bad_plan cgroup-five 'cgroup: more than 4'
tdplan "$WORK/teardown-cgroup.plan" cgroup /sys/fs/cgroup/a
bad_plan teardown-cgroup 'cgroup: not allowed with op teardown'
# A status fd that is not a SEQPACKET socket: no record can be sent, but the exit code says it.
mkplan "$WORK/not-seqpacket.plan" "${STD[@]}"
drive not-seqpacket --no-status-socket --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "status fd not SEQPACKET: exit 125" rc_is 125 not-seqpacket
ok "status fd not SEQPACKET: diagnostics say so" grep -Eq 'not an AF_UNIX SOCK_SEQPACKET socket|SO_TYPE\) \(status socket\)' "$WORK/not-seqpacket.err"
ok "status fd not SEQPACKET: nothing created" no_state

tdplan "$WORK/td-nothing.plan"
drive td-nothing
ok "teardown when nothing exists: exit 0" rc_is 0 td-nothing
ok "teardown when nothing exists: the only record is exit 0" rec_is td-nothing "exit 0"
ok "teardown when nothing exists: nothing created" no_state

# --- a normal run ---------------------------------------------------------------------------------------------------
run_prog basic sh -c 'echo hi; exit 3'
ok "exit code passes through (3)" rc_is 3 basic
ok "program output on fd:N stdout" out_is basic hi
ok "records: started PID" rec_match basic 1 '^started [0-9]+$'
ok "records: exit 3" rec_line basic 2 'exit 3'
ok "records: then the changes summary (casual): changes 0 0" rec_line basic 3 'changes 0 0'
ok "records: nothing else" [ "$(wc -l <"$WORK/basic.rec")" = 3 ]

run_prog proc ls /proc
ok "/proc shows only PIDs 1 and 2" [ "$(grep -E '^[0-9]+$' "$WORK/proc.out" | tr '\n' ' ')" = "1 2 " ]

run_prog status cat /proc/self/status
ok "NoNewPrivs: 1" out_has status $'^NoNewPrivs:\t1$'
ok "CapEff: 0" out_has status $'^CapEff:\t0000000000000000$'
ok "CapPrm: 0" out_has status $'^CapPrm:\t0000000000000000$'
ok "CapBnd: 0 (bounding set dropped)" out_has status $'^CapBnd:\t0000000000000000$'
ok "CapAmb: 0" out_has status $'^CapAmb:\t0000000000000000$'

run_prog fds ls /proc/self/fd
ok "only fds 0 1 2 (+3 for ls's own dir)" [ "$(tr '\n' ' ' <"$WORK/fds.out")" = "0 1 2 3 " ]

# --- the program's process on init's memory until its exec (vfork), unless fs.suid_dumpable is 1 -------------------
# A private tracefs instance records what init created (task:task_newtask: the new task is still named jai-init) and
# PID 2's setresuid and PR_SET_DUMPABLE calls (syscalls:sys_enter_*), kept for this session's init and PID 2 only
# (init's pid is in the `started` record, PID 2's in init's task_newtask). The instance goes after each run and on
# exit; fs.suid_dumpable is set back likewise.
set_suid_dumpable() { echo "$1" >/proc/sys/fs/suid_dumpable && [ "$(cat /proc/sys/fs/suid_dumpable)" = "$1" ]; }
trace_session() { # NAME SUID_DUMPABLE: runs `sh -c 'exit 7'` as NAME; PID 2's clone flags (hex) in NAME.flags, its
	# setresuid and PR_SET_DUMPABLE calls in NAME.calls (setresuid:RUID,EUID,SUID and dumpable:VALUE, in hex)
	local name=$1 rc init child
	ok "fs.suid_dumpable set to $2" set_suid_dumpable "$2"
	mkdir "$TRACE_INST" &&
		echo 'comm == "jai-init"' >"$TRACE_INST/events/task/task_newtask/filter" &&
		echo 'comm == "jai-exec"' >"$TRACE_INST/events/syscalls/sys_enter_setresuid/filter" &&
		echo 'comm == "jai-exec" && option == 4' >"$TRACE_INST/events/syscalls/sys_enter_prctl/filter" &&
		echo 1 >"$TRACE_INST/events/task/task_newtask/enable" &&
		echo 1 >"$TRACE_INST/events/syscalls/sys_enter_setresuid/enable" &&
		echo 1 >"$TRACE_INST/events/syscalls/sys_enter_prctl/enable" && echo 1 >"$TRACE_INST/tracing_on"
	run_prog "$name" sh -c 'exit 7'
	rc=$RC
	cp "$TRACE_INST/trace" "$WORK/$name.trace"
	trace_remove
	set_suid_dumpable "$SUID_DUMPABLE"
	RC=$rc
	init=$(sed -n 's/^started \([0-9]*\)$/\1/p' "$WORK/$name.rec")
	# A line starts with the task's name and pid; the name is the one the kernel last saw for that pid (sh, for PID 2).
	sed -n "s/^.*-$init  *\[.* task_newtask: .* clone_flags=\([0-9a-f]*\) .*/\1/p" "$WORK/$name.trace" >"$WORK/$name.flags"
	child=$(sed -n "s/^.*-$init  *\[.* task_newtask: pid=\([0-9]*\) .*/\1/p" "$WORK/$name.trace")
	# Arguments print as 0 or 0x<hex>.
	sed -E -n -e "s/^.*-$child +\[.* sys_setresuid\(ruid: (0x)?([0-9a-f]+), euid: (0x)?([0-9a-f]+), suid: (0x)?([0-9a-f]+)\).*/setresuid:\2,\4,\6/p" \
		-e "s/^.*-$child +\[.* sys_prctl\(option: (0x)?0*4, arg2: (0x)?([0-9a-f]+),.*/dumpable:\3/p" "$WORK/$name.trace" >"$WORK/$name.calls"
}
clone_is() { # NAME vfork|fork: one task, made with both CLONE_VM and CLONE_VFORK (vfork) or neither (fork)
	local flags want=$((0x4100))
	flags=$(cat "$WORK/$1.flags")
	[ "$2" = fork ] && want=0
	[ "$(wc -w <<<"$flags")" = 1 ] && [ $((0x$flags & 0x4100)) = "$want" ] || { echo "     clone flags: '$flags'" >&2; return 1; }
}
creds_order_is_safe() { # NAME: PID 2 cleared its dumpability between setresuid(0, uid, 0) and setresuid(uid, uid, uid)
	local u seq
	u=$(printf '%x' "$UID_")
	seq=$(tr '\n' ' ' <"$WORK/$1.calls")
	[ "$seq" = "setresuid:0,$u,0 dumpable:0 setresuid:$u,$u,$u " ] ||
		{ echo "     PID 2's setresuid and PR_SET_DUMPABLE: $seq" >&2; return 1; }
}
TRACEFS_MOUNTED=
if [ ! -e "$TRACEFS/instances" ] && [ -d "$TRACEFS" ] && ! mountpoint -q "$TRACEFS"; then
	mount -t tracefs nodev "$TRACEFS" && TRACEFS_MOUNTED=1
fi
if [ -d "$TRACEFS/instances" ]; then
	TRACE_INST=$TRACEFS/instances/jai-smoke-$$
	for dumpable in 0 2 1; do
		how=vfork
		[ "$dumpable" = 1 ] && how=fork
		trace_session "$how-$dumpable" "$dumpable"
		ok "fs.suid_dumpable $dumpable: init starts the program with $how" clone_is "$how-$dumpable" "$how"
		ok "fs.suid_dumpable $dumpable: the program's exit code passes through (7)" rc_is 7 "$how-$dumpable"
		ok "fs.suid_dumpable $dumpable: PID 2 is never the user's and dumpable (setresuid(0, uid, 0), then PR_SET_DUMPABLE 0, then setresuid(uid, uid, uid))" \
			creds_order_is_safe "$how-$dumpable"
	done
	TRACE_INST=
else
	ok "tracefs has instances ($TRACEFS/instances)" false
fi
[ -n "$TRACEFS_MOUNTED" ] && umount "$TRACEFS"

run_prog ids sh -c 'id -u; id -g; id -G; umask'
ok "uid, gid, groups are the plan's; umask applied" out_is ids "$UID_
$GID_
$GID_
0022"

run_prog env /usr/bin/env
ok "environment is exactly the plan's" out_is env "$ENV_PATH"

run_prog usr-ro sh -c 'echo x > /usr/x'
ok "writing /usr fails (read-only)" [ "$RC" != 0 ]
ok "writing /usr: Read-only file system" out_has usr-ro 'Read-only file system'
ok "/usr/x not created on the host" [ ! -e /usr/x ]

run_prog cwd-write sh -c 'pwd; echo data > granted.txt'
ok "program starts in cwd" out_is cwd-write "$H/proj"
ok "cwd grant write persists on the host" [ "$(cat "$H/proj/granted.txt" 2>/dev/null)" = data ]
ok "file written in the grant is owned by the user" [ "$(stat -c %u "$H/proj/granted.txt" 2>/dev/null)" = "$UID_" ]

run_prog home-write sh -c 'echo new > "$0/newfile"' "$H"
ok "home write lands in default.changes" [ "$(cat "$H/.jai/default.changes/newfile" 2>/dev/null)" = new ]
ok "home write does not reach the real home" [ ! -e "$H/newfile" ]

run_prog home-rm sh -c 'rm "$0/realfile" && ! test -e "$0/realfile"' "$H"
ok "rm of a real home file succeeds inside" rc_is 0 home-rm
ok "the real file is intact" [ "$(cat "$H/realfile")" = real ]
ok "a whiteout (char 0:0) is in default.changes" \
	[ "$(stat -c '%F %t:%T' "$H/.jai/default.changes/realfile" 2>/dev/null)" = "character special file 0:0" ]

run_prog tmp sh -c 'test -e /tmp/jai-smoke-hostfile && echo visible; echo in > /tmp/jail-file; cat /var/tmp/jail-file'
ok "host /tmp is not visible" out_lacks tmp visible
ok "/var/tmp is the same dir as /tmp" out_is tmp in
ok "jail /tmp is /run/jai/<user>/tmp/default on the host" [ -e "/run/jai/$U/tmp/default/jail-file" ]
ok "host /tmp untouched" [ ! -e /tmp/jail-file ]

run_prog devpts-null ls /dev/pts
ok "/dev/pts shows only ptmx (no pty)" out_is devpts-null ptmx
run_prog dev ls /dev
ok "/dev is minimal" [ "$(tr '\n' ' ' <"$WORK/dev.out")" = "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " ]
run_prog dev-write sh -c 'echo x > /dev/null && echo ok; touch /dev/newnode 2>/dev/null || echo ro'
ok "/dev/null writable, /dev itself read-only" out_is dev-write "ok
ro"

run_prog runjai sh -c 'awk '\''$5 ~ "^/run/jai"'\'' /proc/self/mountinfo | wc -l; stat -c %a /run/jai; ls /run/jai 2>&1'
ok "/run/jai: a single empty cover mount, mode 0, unreadable" out_is runjai "1
0
ls: cannot open directory '/run/jai': Permission denied"
run_prog storage-hidden sh -c 'stat -c %a "$0/.jai"; ls "$0/.jai" 2>&1' "$H"
ok "storage dir covered inside the jail" out_is storage-hidden "0
ls: cannot open directory '$H/.jai': Permission denied"

cat >"$H/proj/mounts.awk" <<'AWK'
# Field 5 is the mount point, 6 its per-mount options.
$6 !~ /(^|,)nosuid(,|$)/ { print "not nosuid: " $5 }
$6 !~ /(^|,)nodev(,|$)/ && $5 != "/dev" && $5 != "/dev/pts" { print "not nodev: " $5 }
$5 == "/dev" && $6 !~ /^ro,/ { print "/dev not read-only" }
AWK
run_prog mounts awk -f mounts.awk /proc/self/mountinfo
ok "every mount nosuid; nodev except /dev and /dev/pts; /dev read-only" out_is mounts ""
rm -f "$H/proj/mounts.awk"

cp /bin/bash "$H/proj/suidbash" && chown root:root "$H/proj/suidbash" && chmod 4755 "$H/proj/suidbash"
run_prog suid ./suidbash -p -c 'id -u; id -ru'
ok "a setuid-root binary gains nothing" out_is suid "$UID_
$UID_"
rm -f "$H/proj/suidbash"

mkplan "$WORK/stdin-fd.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv cat stdin fd:7 stdout fd:5 stderr fd:6
drive stdin-fd --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --fd 7=in:piped-input
ok "stdin fd:N passes through" out_is stdin-fd piped-input

mkplan "$WORK/ro-grant.plan" cwd "$H/proj" grant "cwd:4:$H/proj" grant "ro:7:$H/ro-dir" \
	argv sh argv -c argv "cat $H/ro-dir/file; (echo x > $H/ro-dir/new) 2>/dev/null || echo refused" \
	stdin null stdout fd:5 stderr fd:6
drive ro-grant --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --fd "7=grant:$H/ro-dir"
ok "ro grant readable, not writable" out_is ro-grant "ro
refused"

mkplan "$WORK/tmp-grant.plan" cwd /tmp/sub/dir grant "rw:7:/tmp/sub/dir" grant "cwd:4:$H/proj" \
	argv sh argv -c argv 'pwd; ls' stdin null stdout fd:5 stderr fd:6
# The grant really is /tmp/sub/dir on the host (the helper checks the fd is where the plan says); in the jail's
# private /tmp the mount point does not exist yet.
mkdir -p /tmp/sub/dir && touch /tmp/sub/dir/file && chown -R "$U:" /tmp/sub
drive tmp-grant --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --fd "7=grant:/tmp/sub/dir"
rm -rf /tmp/sub
ok "a grant target missing in the jail is created as the user (under /tmp)" out_is tmp-grant "/tmp/sub/dir
file"
ok "the created grant target is the user's" [ "$(stat -c %u "/run/jai/$U/tmp/default/sub" 2>/dev/null)" = "$UID_" ]

JAIL=masked mkplan "$WORK/mask.plan" cwd "$H/proj" grant "cwd:4:$H/proj" mask .secret mask .config/x/y \
	argv sh argv -c argv "test -e $H/.secret && echo visible; cat $H/realfile" stdin null stdout fd:5 stderr fd:6
drive mask --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "masked path is hidden (fresh overlay of jail 'masked')" out_is mask real
ok "mask whiteout created in masked.changes" [ -c "$H/.jai/masked.changes/.secret" ]
ok "nested mask parent created as the user" [ "$(stat -c %u "$H/.jai/masked.changes/.config/x" 2>/dev/null)" = "$UID_" ]

JAIL=masked mkplan "$WORK/mask-again.plan" cwd "$H/proj" grant "cwd:4:$H/proj" mask .other \
	argv sh argv -c argv "test -e $H/.secret && echo visible; echo ran" stdin null stdout fd:5 stderr fd:6
drive mask-again --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "masks on a mounted overlay: masks-ignored record before started" \
	rec_seq mask-again "masks-ignored /run/jai/$U/masked.home|started|exit 0|changes 0 0|"
ok "masks on a mounted overlay: the earlier masks stay in effect" out_is mask-again ran
ok "masks on a mounted overlay: the new mask is not made" [ ! -e "$H/.jai/masked.changes/.other" ]

# --- startup script -------------------------------------------------------------------------------------------------
SCRIPT_TEXT=$'echo from-script\n# any bytes but NUL: \x01\t\xc3\xa9\xff "q" \'s\' $HOME `x` \\n\n\n'
mkplan "$WORK/script.plan" cwd "$H/proj" grant "cwd:4:$H/proj" script "$SCRIPT_TEXT" argv sh argv -c \
	argv 'echo "$JAI_SCRIPT"; stat -c "%a %u %g %h" "$JAI_SCRIPT"; cp "$JAI_SCRIPT" script-copy; env | grep -c "^JAI_SCRIPT="' \
	stdin null stdout fd:5 stderr fd:6
rm -f "$H/proj/script-copy"
drive script --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "script: exit 0" rc_is 0 script
ok "script: JAI_SCRIPT=/tmp/.jairc + 10 characters of [+0-9=A-Za-z]" \
	bash -c "sed -n 1p '$WORK/script.out' | grep -Eqx '/tmp/\.jairc[+0-9=A-Za-z]{10}'"
ok "script: mode 0400, owned by the user, one link" [ "$(sed -n 2p "$WORK/script.out")" = "400 $UID_ $GID_ 1" ]
ok "script: exactly the plan's bytes" cmp -s <(printf '%s' "$SCRIPT_TEXT") "$H/proj/script-copy"
ok "script: JAI_SCRIPT set once" [ "$(sed -n 3p "$WORK/script.out")" = 1 ]
ok "script: removed from tmp/<jail> after the session" \
	[ -z "$(ls -A "/run/jai/$U/tmp/default" | grep -F .jairc)" ]
rm -f "$H/proj/script-copy"
mkplan "$WORK/script-env.plan" cwd "$H/proj" grant "cwd:4:$H/proj" script 'true' argv /usr/bin/env \
	stdin null stdout fd:5 stderr fd:6
drive script-env --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "script: the plan's env unchanged, JAI_SCRIPT appended" \
	bash -c "[ \"\$(sed -n 1p '$WORK/script-env.out')\" = '$ENV_PATH' ] && sed -n 2p '$WORK/script-env.out' | grep -Eqx 'JAI_SCRIPT=/tmp/\.jairc[+0-9=A-Za-z]{10}' && [ \$(wc -l <'$WORK/script-env.out') = 2 ]"
mkplan "$WORK/script-keep.plan" cwd "$H/proj" grant "cwd:4:$H/proj" script 'x' argv sh argv -c \
	argv 'mv "$JAI_SCRIPT" /tmp/moved-script; echo mine > "$JAI_SCRIPT"' stdin null stdout fd:5 stderr fd:6
drive script-keep --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "script: a file the jail put in its place is not removed" \
	[ "$(cat /run/jai/"$U"/tmp/default/.jairc* 2>/dev/null)" = mine ]
rm -f /run/jai/"$U"/tmp/default/.jairc* /run/jai/"$U"/tmp/default/moved-script

# --- initjail -------------------------------------------------------------------------------------------------------
IJ=/tmp/jai-smoke-initjail
rm -rf "$IJ" && install -d -m 0755 "$IJ"
cat >"$IJ/ok.sh" <<'SH'
#!/bin/sh
echo initjail-out
read -r line && echo stdin-not-null
{ echo "$PWD $(id -u) $(id -G) $(umask)"; ls /proc/self/fd | tr '\n' ' '; echo; readlink /proc/self/ns/mnt; \
  test -e /tmp/jai-smoke-hostfile && echo outside-the-jail; } >>./initjail-ran
SH
printf '#!/bin/sh\necho failing; exit 3\n' >"$IJ/fail.sh"
printf '#!/bin/sh\nkill -TERM $$\n' >"$IJ/sig.sh"
printf '#!/bin/sh\necho initjail-on-the-pty\n' >"$IJ/pty.sh"
printf 'not executable\n' >"$IJ/noexec"
chmod 0755 "$IJ"/*.sh && chmod 0644 "$IJ/noexec"
HOST_MNTNS=$(readlink /proc/self/ns/mnt)

JAIL=initj UMASK=027 mkplan "$WORK/initjail.plan" cwd "$H/proj" grant "cwd:4:$H/proj" initjail "$IJ/ok.sh" \
	argv sh argv -c argv "echo program; cat $H/initjail-ran" stdin fd:7 stdout fd:5 stderr fd:6
drive initjail --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --fd 7=in:to-the-program
# What the initjail wrote just before the session may share its start's clock tick (ctime ≥ start).
ok "initjail: the session runs (exit 0), no notice" \
	rec_seq_re initjail 'started\|exit 0\|(changes 0 0|changes 1 0\|changed initjail-ran)\|' 
ok "initjail: its stdout is the program's, before the program" \
	[ "$(head -n 2 "$WORK/initjail.out" | tr '\n' ' ')" = "initjail-out program " ]
ok "initjail: stdin is /dev/null" out_lacks initjail stdin-not-null
ok "initjail: cwd /run/jai/<user>/<jail>.home, the user's ids, the plan's umask" \
	[ "$(sed -n 3p "$WORK/initjail.out")" = "/run/jai/$U/initj.home $UID_ $GID_ 0027" ]
ok "initjail: only fds 0 1 2 (+3 for ls's own dir)" [ "$(sed -n 4p "$WORK/initjail.out")" = "0 1 2 3 " ]
ok "initjail: runs in the host mount namespace" [ "$(sed -n 5p "$WORK/initjail.out")" = "$HOST_MNTNS" ]
ok "initjail: outside the jail (sees the host /tmp)" [ "$(sed -n 6p "$WORK/initjail.out")" = outside-the-jail ]
ok "initjail: what it wrote in the home is in the jail's changes, the user's" \
	[ "$(stat -c %u "$H/.jai/initj.changes/initjail-ran" 2>/dev/null)" = "$UID_" ]
JAIL=initj mkplan "$WORK/initjail-again.plan" cwd "$H/proj" grant "cwd:4:$H/proj" initjail "$IJ/ok.sh" \
	argv true stdin null stdout fd:5 stderr fd:6
drive initjail-again --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "initjail: not run when the changes dir exists" \
	bash -c "[ \$(wc -l <'$H/.jai/initj.changes/initjail-ran') = 4 ] && ! grep -q initjail-out '$WORK/initjail-again.out'"

initjail_notice() { # NAME SCRIPT EXPECTED-NOTICE
	JAIL=$1 mkplan "$WORK/$1.plan" cwd "$H/proj" grant "cwd:4:$H/proj" initjail "$2" argv sh argv -c argv 'echo ran' \
		stdin null stdout fd:5 stderr fd:6
	drive "$1" --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
	ok "initjail $1: notice '$3' before started" rec_seq "$1" "notice $3|started|exit 0|changes 0 0|"
	ok "initjail $1: the session still runs" out_has "$1" '^ran$'
}
initjail_notice initfail "$IJ/fail.sh" "$IJ/fail.sh: exit code 3"

# --- the daemon's go (`go wait`): nothing of the user's runs before it ---------------------------------------------
GO_PROG=(argv sh argv -c argv "echo ran; touch $H/proj/go-ran" stdin null stdout fd:5 stderr fd:6)
rm -f "$H/proj/go-ran"
mkplan "$WORK/go-send.plan" cwd "$H/proj" grant "cwd:4:$H/proj" go wait "${GO_PROG[@]}"
drive go-send --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --go send
ok "go: the program runs after the daemon's go" out_is go-send ran
ok "go: started, then the program's exit" rec_seq go-send "started|exit 0|changes 0 0|"
rm -f "$H/proj/go-ran"
for how in eof bad; do
	mkplan "$WORK/go-$how.plan" cwd "$H/proj" grant "cwd:4:$H/proj" go wait "${GO_PROG[@]}"
	drive "go-$how" --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --go "$how"
	ok "go $how: setup fails (125)" rc_is 125 "go-$how"
	ok "go $how: one error record, no started" rec_match "go-$how" 1 \
		"^error 125 init: (the daemon went away before its go|unexpected packet from the daemon \\(2 bytes\\))"
	ok "go $how: the program never ran" bash -c "[ ! -e '$H/proj/go-ran' ] && [ ! -s '$WORK/go-$how.out' ]"
	ok "go $how: no process of the user is left" bash -c "! pgrep -u '$U' >/dev/null"
done
JAIL=goij mkplan "$WORK/go-initjail.plan" cwd "$H/proj" grant "cwd:4:$H/proj" initjail "$IJ/ok.sh" go wait \
	"${GO_PROG[@]}"
drive go-initjail --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --go eof
ok "go eof with an initjail: setup fails before it (125)" rec_match go-initjail 1 \
	'^error 125 initjail: the daemon went away before its go'
ok "go eof with an initjail: neither the initjail nor the program ran" \
	bash -c "[ ! -e '$H/.jai/goij.changes/initjail-ran' ] && [ ! -e '$H/proj/go-ran' ] && [ ! -s '$WORK/go-initjail.out' ]"
initjail_notice initnoexec "$IJ/noexec" "$IJ/noexec: exit code 199 (probably couldn't execute)"
initjail_notice initmissing "$IJ/missing" "$IJ/missing: exit code 199 (probably couldn't execute)"
initjail_notice initsig "$IJ/sig.sh" "$IJ/sig.sh: killed by signal 15"
ok "initjail: a failing one's output reaches the program's stdout" out_has initfail '^failing$'

JAIL=initpty mkplan "$WORK/initjail-pty.plan" cwd "$H/proj" grant "cwd:4:$H/proj" initjail "$IJ/pty.sh" argv echo \
	argv program stdin pty stdout pty stderr pty pty_rows 24 pty_cols 80
drive initjail-pty --fd "4=grant:$H/proj"
ok "initjail: with a pty, records pty, started, exit 0" rec_seq initjail-pty "pty|started|exit 0|changes 0 0|"
ok "initjail: with a pty, its output is on the session's pty" out_has initjail-pty 'initjail-on-the-pty'

# --- terminal ---------------------------------------------------------------------------------------------------
mkplan "$WORK/pty.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv sh argv -c \
	argv 'tty; ls /dev/pts | tr "\n" " "; echo; stty size; read line; echo "got=$line"' \
	stdin pty stdout pty stderr pty pty_rows 33 pty_cols 101
drive pty --fd "4=grant:$H/proj" --pty-input $'hello\n'
ok "pty: exit 0" rc_is 0 pty
ok "pty: records pty, started, exit 0, changes 0 0" rec_seq pty "pty|started|exit 0|changes 0 0|"
ok "pty: tty is /dev/pts/0" out_has pty '^/dev/pts/0'
ok "pty: /dev/pts shows only the session's pty and ptmx" out_has pty '^0 ptmx '
ok "pty: window size from the plan" out_has pty '^33 101'
ok "pty: input reaches the program" out_has pty '^got=hello'

mkplan "$WORK/pty-mixed.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv sh argv -c \
	argv 'test -t 0 && echo in-tty; test -t 1 || echo out-not-tty; ls -l /proc/self/fd/0 | grep -o "/dev/pts/0"' \
	stdin pty stdout fd:5 stderr fd:6 pty_rows 24 pty_cols 80
drive pty-mixed --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "pty only for stdin, pipe for stdout" out_is pty-mixed "in-tty
out-not-tty
/dev/pts/0"

# --- signals ----------------------------------------------------------------------------------------------------
mkplan "$WORK/sigterm-trap.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv sh argv -c \
	argv 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done' stdin null stdout fd:5 stderr fd:6
drive sigterm-trap --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --signal-when ready:SIGTERM --timeout 20
ok "kill -TERM to the helper reaches the program (trap ran)" out_has sigterm-trap got-term
ok "... and its exit code passes through" rc_is 7 sigterm-trap

mkplan "$WORK/sigterm.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv sh argv -c \
	argv 'echo ready; exec sleep 100' stdin null stdout fd:5 stderr fd:6
drive sigterm --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --signal-when ready:SIGTERM --timeout 20
ok "program killed by SIGTERM: helper exits 143" rc_is 143 sigterm
ok "records: signal 15" rec_line sigterm 2 'signal 15'

mkplan "$WORK/sigkill.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv sh argv -c argv 'sleep 300 & sleep 300' \
	stdin null stdout fd:5 stderr fd:6
drive sigkill --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --timeout 2
sleep 0.5
ok "SIGKILL on the helper kills the whole jail" [ -z "$(pgrep -u "$U")" ]

# --- refusals -----------------------------------------------------------------------------------------------------
mkplan "$WORK/cwd-home.plan" cwd "$H" grant "cwd:4:$H" argv true stdin null stdout fd:5 stderr fd:6
drive cwd-home --fd "4=grant:$H" --fd 5=out --fd 6=out
ok "cwd grant of the home dir refused (exit 1)" rc_is 1 cwd-home
ok "cwd == home: upstream's message" rec_line cwd-home 1 \
	'error 1 grant: Refusing to grant your entire home directory to jailed code.'

mkplan "$WORK/grant-etc.plan" cwd "$H/proj" grant "rw:4:/etc" argv true stdin null stdout fd:5 stderr fd:6
drive grant-etc --fd 4=grant:/etc --fd 5=out --fd 6=out
ok "grant of a dir the user does not own refused" rec_line grant-etc 1 \
	"error 1 grant: /etc: owned by 0 should be owned by $UID_"

mkplan "$WORK/grant-storage.plan" cwd "$H/proj" grant "cwd:4:$H/proj" grant "rw:7:$H/.jai" argv true \
	stdin null stdout fd:5 stderr fd:6
drive grant-storage --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --fd "7=grant:$H/.jai"
ok "grant inside the storage dir refused" rec_line grant-storage 1 \
	"error 1 grant: $H/.jai: cannot export a directory within $H/.jai"

run_prog notfound no-such-command-xyz
ok "exec not found: 127" rc_is 127 notfound
ok "exec not found: record" rec_line notfound 2 'error 127 exec: no-such-command-xyz: No such file or directory'
ok "exec not found: then exit 127" rec_line notfound 3 'exit 127'

run_prog noexec /etc/passwd
ok "exec not permitted: 126" rc_is 126 noexec
ok "exec not permitted: record" rec_line noexec 2 'error 126 exec: /etc/passwd: Permission denied'

mkplan "$WORK/bad-cwd.plan" cwd /nonexistent grant "cwd:4:$H/proj" argv true stdin null stdout fd:5 stderr fd:6
drive bad-cwd --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "chdir failure: 125 with chdir(CWD) message" rec_line bad-cwd 2 \
	'error 125 exec: chdir(/nonexistent): No such file or directory'

ln -s /etc "$H/.jai/evil.changes" 2>/dev/null
JAIL=evil mkplan "$WORK/symlink-changes.plan" "${STD[@]}"
drive symlink-changes --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "a symlinked <jail>.changes is refused" rec_match symlink-changes 1 \
	"^error 125 storage: open\\($H/.jai/evil.changes\\) as $U: (Not a directory|Too many levels of symbolic links)"
rm -f "$H/.jai/evil.changes"

# --- network ----------------------------------------------------------------------------------------------------------
# A listener on the host's 127.0.0.1 (a free port): reachable from a jail with the host's network only.
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    c.sendall(b"host-listener\n")
    c.close()
' "$WORK/listener.port" &
LISTENER=$!
for _ in $(seq 50); do [ -s "$WORK/listener.port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/listener.port")
HOST_NETNS=$(readlink /proc/self/ns/net)
# Prints: the interfaces of /proc/net/dev; `ip -o link` as "NAME FLAGS"; the net namespace; the host listener's
# greeting or connect-failed; then (loopback only) a listen + connect on 127.0.0.1 inside the jail.
NET_PROBE='awk '\''NR > 2 { sub(":", "", $1); printf "%s ", $1 } END { print "" }'\'' /proc/net/dev
/usr/sbin/ip -o link | sed "s/^[0-9]*: \([^:@]*\)[^<]*<\([^>]*\)>.*/\1 \2/" | tr "\n" " "; echo
readlink /proc/self/ns/net
bash -c "exec 3<>/dev/tcp/127.0.0.1/$0 && head -n 1 <&3" 2>/dev/null || echo connect-failed
test "$1" = inner && python3 -c "
import socket
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(1)
c = socket.create_connection(s.getsockname(), timeout=3); a, _ = s.accept(); a.sendall(b\"jail-listener\")
print(c.recv(100).decode())"
true'
net_run() { # NAME NETWORK(or "")
	local net=()
	[ -n "$2" ] && net=(network "$2")
	mkplan "$WORK/$1.plan" cwd "$H/proj" grant "cwd:4:$H/proj" "${net[@]}" argv sh argv -c argv "$NET_PROBE" \
		argv "$PORT" argv "$([ "$2" = loopback ] && echo inner)" stdin null stdout fd:5 stderr fd:6
	drive "$1" --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
}
out_line() { [ "$(sed -n "${2}p" "$WORK/$1.out")" = "$3" ] || { echo "     out=$(head -c 600 "$WORK/$1.out")" >&2; return 1; }; }
ok "network: the host listener answers on the host" \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && [ \"\$(head -n 1 <&3)\" = host-listener ]"

net_run net-none none
ok "network none: exit 0" rc_is 0 net-none
ok "network none: /proc/net/dev lists only lo" out_line net-none 1 "lo "
ok "network none: ip -o link shows lo, not UP" out_line net-none 2 "lo LOOPBACK "
ok "network none: a network namespace of its own" \
	bash -c "l=\$(sed -n 3p '$WORK/net-none.out'); [ -n \"\$l\" ] && [ \"\$l\" != '$HOST_NETNS' ]"
ok "network none: the host's 127.0.0.1 listener is unreachable" out_line net-none 4 connect-failed

net_run net-lo loopback
ok "network loopback: exit 0" rc_is 0 net-lo
ok "network loopback: /proc/net/dev lists only lo" out_line net-lo 1 "lo "
ok "network loopback: lo is UP" out_line net-lo 2 "lo LOOPBACK,UP,LOWER_UP "
ok "network loopback: a network namespace of its own" \
	bash -c "l=\$(sed -n 3p '$WORK/net-lo.out'); [ -n \"\$l\" ] && [ \"\$l\" != '$HOST_NETNS' ]"
ok "network loopback: the host's 127.0.0.1 listener is unreachable" out_line net-lo 4 connect-failed
ok "network loopback: listen and connect on 127.0.0.1 inside the jail work" out_line net-lo 5 jail-listener

net_run net-host host
ok "network host: the host's namespace, its listener reachable" \
	bash -c "[ \"\$(sed -n 3,4p '$WORK/net-host.out' | tr '\n' ' ')\" = '$HOST_NETNS host-listener ' ]"
ok "network host: the host's interfaces" bash -c "[ \"\$(sed -n 1p '$WORK/net-host.out')\" != 'lo ' ]"
net_run net-absent ""
ok "network absent: as host" \
	bash -c "[ \"\$(sed -n 3,4p '$WORK/net-absent.out' | tr '\n' ' ')\" = '$HOST_NETNS host-listener ' ]"

MODE=strict JAIL=strict-net mkplan "$WORK/net-strict.plan" cwd "$H/proj" grant "cwd:4:$H/proj" network loopback \
	argv sh argv -c argv "$NET_PROBE" argv "$PORT" argv inner stdin null stdout fd:5 stderr fd:6
drive net-strict --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "network loopback in strict mode: lo up, host unreachable, loopback works" \
	bash -c "[ \"\$(sed -n '1,2p;4,5p' '$WORK/net-strict.out' | tr '\n' '|')\" = 'lo |lo LOOPBACK,UP,LOWER_UP |connect-failed|jail-listener|' ]"

# --- cgroups ----------------------------------------------------------------------------------------------------------
# This machine: cgroup v1 controllers under /sys/fs/cgroup (a tmpfs); throw-away cgroups below our own ones.
own_cgroup() { awk -F: -v c="$1" '$2 == c { print $3 }' /proc/self/cgroup; }
cg_path() { local rel; rel=$(own_cgroup "$1"); echo "/sys/fs/cgroup/$1${rel%/}/jai-smoke-$2-$$"; }
if [ "$(stat -f -c %T /sys/fs/cgroup/memory 2>/dev/null)" = cgroupfs ] && [ "$(stat -f -c %T /sys/fs/cgroup/pids 2>/dev/null)" = cgroupfs ] &&
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ]; then
	MEMCG=$(cg_path memory mem)
	PIDSCG=$(cg_path pids pids)
	CPUSETCG=$(cg_path cpuset cpuset)
	FAKECG=/sys/fs/cgroup/jai-smoke-fake-$$ # a plain dir with a cgroup.procs file, on the tmpfs
	LINKCG=/sys/fs/cgroup/jai-smoke-link-$$ # a symlink to a real cgroup
	LINKDIR=/sys/fs/cgroup/jai-smoke-linkdir-$$ # a symlink to its parent
	CGROUPS_MADE=("$MEMCG" "$PIDSCG" "$CPUSETCG" "$FAKECG" "$LINKCG" "$LINKDIR")
	mkdir "$MEMCG" "$PIDSCG" "$CPUSETCG" "$FAKECG" && echo 20 >"$PIDSCG/pids.max" && touch "$FAKECG/cgroup.procs" &&
		ln -s "$MEMCG" "$LINKCG" && ln -s "${MEMCG%/*}" "$LINKDIR" || exit 1
	# The cpuset cgroup has no cpus or mems: writing a pid to it fails (ENOSPC).
	cg_run() { # NAME CGROUP-DIRS (space separated) ARGV...
		local name=$1 dirs=$2 c
		shift 2
		local args=() cgs=()
		for c in $dirs; do cgs+=(cgroup "$c"); done
		for a in "$@"; do args+=(argv "$a"); done
		mkplan "$WORK/$name.plan" cwd "$H/proj" grant "cwd:4:$H/proj" "${cgs[@]}" "${args[@]}" stdin null stdout fd:5 \
			stderr fd:6
		drive "$name" --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
	}
	cg_run cg-mem "$MEMCG" sh -c 'cat /proc/self/cgroup /proc/1/cgroup; ls -l /proc/self/fd'
	ok "cgroup: exit 0" rc_is 0 cg-mem
	ok "cgroup: the program and init (/proc/self, /proc/1) are in the memory cgroup" \
		bash -c "[ \"\$(grep -c '^[0-9]*:memory:${MEMCG#/sys/fs/cgroup/memory}\$' '$WORK/cg-mem.out')\" = 2 ]"
	ok "cgroup: the program holds no cgroup.procs fd" out_lacks cg-mem cgroup.procs
	ok "cgroup: the program holds no tasks fd (init's, for joining)" out_lacks cg-mem /tasks
	ok "cgroup: the pids cgroup was not joined" out_lacks cg-mem "pids:.*jai-smoke"
	ok "cgroup: the memory cgroup is empty after the session" [ -z "$(cat "$MEMCG/cgroup.procs")" ]

	# While a session runs: neither init nor the outer helper holds a cgroup.procs fd.
	mkplan "$WORK/cg-fds.plan" cwd "$H/proj" grant "cwd:4:$H/proj" cgroup "$MEMCG" cgroup "$PIDSCG" argv sh argv -c \
		argv 'echo running; sleep 2' stdin null stdout fd:5 stderr fd:6
	(drive cg-fds --fd "4=grant:$H/proj" --fd 5=out --fd 6=out) &
	CGBG=$!
	for _ in $(seq 100); do grep -q running "$WORK/cg-fds.out" 2>/dev/null && break; sleep 0.05; done
	CGINIT=$(sed -n 's/^started //p' "$WORK/cg-fds.rec")
	CGHELPER=$(ps -o ppid= -p "$CGINIT" | tr -d ' ')
	CGFDS=$(ls -l "/proc/$CGINIT/fd" "/proc/$CGHELPER/fd" 2>&1)
	CGPROCS=$(cat "$MEMCG/cgroup.procs" "$PIDSCG/cgroup.procs" | sort -u | tr '\n' ' ')
	wait "$CGBG"
	# (The fd listing must be real: init holds the status socket.)
	ok "cgroup: neither init nor the outer helper holds a cgroup.procs fd while the session runs" \
		bash -c "[ -n '$CGINIT' ] && [ -n '$CGHELPER' ] && grep -q 'socket:' <<<'$CGFDS' && ! grep -q cgroup <<<'$CGFDS'"
	ok "cgroup: init and the program are in both cgroups, the outer helper in neither" \
		bash -c "grep -qw '$CGINIT' <<<'$CGPROCS' && ! grep -qw '$CGHELPER' <<<'$CGPROCS' && [ \$(wc -w <<<'$CGPROCS') -ge 3 ]"

	FORK50='import os, time
n = 0
try:
    for i in range(50):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
    print("forked", n)
except OSError as e:
    print("fork failed after", n, e.errno)'
	cg_run cg-pids "$PIDSCG" python3 -c "$FORK50"
	ok "cgroup: pids.max=20 — forking 50 sleepers fails (EAGAIN)" out_has cg-pids '^fork failed after 1[0-9] 11$'
	cg_run cg-nopids "" python3 -c "$FORK50"
	ok "cgroup: without it the same 50 forks succeed" out_is cg-nopids "forked 50"

	cg_bad() { # NAME DIR EXPECTED-RECORD-REGEX
		cg_run "$1" "$2" sh -c 'echo ran'
		ok "cgroup $1: exit 125" rc_is 125 "$1"
		ok "cgroup $1: one error record, no started" rec_seq_re "$1" "$3\\|"
		ok "cgroup $1: the program did not run" out_lacks "$1" ran
	}
	cg_bad cg-fake "$FAKECG" \
		"error 125 cgroup: $FAKECG/cgroup.procs: not on a cgroup filesystem \\(f_type 0x1021994\\)"
	cg_bad cg-link "$LINKCG" "error 125 cgroup: open\\($LINKCG\\): (Not a directory|Too many levels of symbolic links)"
	# A symlink as an inner component: $LINKDIR → the parent of the memory cgroup.
	cg_bad cg-link-inner "$LINKDIR/${MEMCG##*/}" \
		"error 125 cgroup: open\\($LINKDIR/${MEMCG##*/}\\): (Not a directory|Too many levels of symbolic links)"
	cg_bad cg-missing "/sys/fs/cgroup/jai-smoke-missing-$$" \
		"error 125 cgroup: open\\(/sys/fs/cgroup/jai-smoke-missing-$$\\): No such file or directory"
	cg_bad cg-root "/sys/fs/cgroup/memory/cgroup.procs" \
		"error 125 cgroup: open\\(/sys/fs/cgroup/memory/cgroup.procs\\): Not a directory"
	# init joins v1 cgroups itself ("0" to tasks: no global lock, cgroup.c), so the failure is init's own record.
	cg_bad cg-write "$MEMCG $CPUSETCG" \
		"error 125 init: write\\($CPUSETCG/tasks, 0\\): No space left on device"
	ok "cgroup cg-write: init is gone (the memory cgroup it had joined is empty)" \
		bash -c "for _ in \$(seq 20); do [ -z \"\$(cat '$MEMCG/cgroup.procs')\" ] && exit 0; sleep 0.1; done; exit 1"

	# The initjail (user code, run before init) is in the session's cgroups too, before it execs, and so is what it
	# leaves running (a daemonised sleeper); it holds no cgroup.procs fd.
	cat >"$IJ/cg.sh" <<'SH'
#!/bin/sh
cat /proc/self/cgroup >./initjail-cgroup
ls -l /proc/$$/fd >./initjail-fds
setsid sleep 60 </dev/null >/dev/null 2>&1 &
echo $! >./initjail-daemon
SH
	chmod 0755 "$IJ/cg.sh"
	JAIL=initcg mkplan "$WORK/cg-initjail.plan" cwd "$H/proj" grant "cwd:4:$H/proj" cgroup "$MEMCG" cgroup "$PIDSCG" \
		initjail "$IJ/cg.sh" argv sh argv -c argv 'echo ran' stdin null stdout fd:5 stderr fd:6
	drive cg-initjail --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
	IJC=$H/.jai/initcg.changes
	ok "cgroup initjail: the session runs (exit 0, no notice)" \
		bash -c "[ '$RC' = 0 ] && grep -qx ran '$WORK/cg-initjail.out' && ! grep -q '^notice' '$WORK/cg-initjail.rec'"
	ok "cgroup initjail: its /proc/self/cgroup shows the session's memory and pids cgroups" \
		bash -c "grep -qx '[0-9]*:memory:${MEMCG#/sys/fs/cgroup/memory}' '$IJC/initjail-cgroup' &&
			grep -qx '[0-9]*:pids:${PIDSCG#/sys/fs/cgroup/pids}' '$IJC/initjail-cgroup'"
	ok "cgroup initjail: it holds no cgroup.procs fd" \
		bash -c "grep -q null '$IJC/initjail-fds' && ! grep -q cgroup '$IJC/initjail-fds'"
	IJD=$(cat "$IJC/initjail-daemon" 2>/dev/null)
	ok "cgroup initjail: what it left running is in the session's memory cgroup, not the helper's" \
		bash -c "[ -n '$IJD' ] && grep -qx '$IJD' '$MEMCG/cgroup.procs'"
	[ -n "$IJD" ] && kill -KILL "$IJD" 2>/dev/null
	# A failed placement: the initjail never runs, nor does the session.
	JAIL=initcg-bad mkplan "$WORK/cg-initjail-bad.plan" cwd "$H/proj" grant "cwd:4:$H/proj" cgroup "$MEMCG" \
		cgroup "$CPUSETCG" initjail "$IJ/cg.sh" argv sh argv -c argv 'echo ran' stdin null stdout fd:5 stderr fd:6
	drive cg-initjail-bad --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
	ok "cgroup initjail-bad: exit 125" rc_is 125 cg-initjail-bad
	ok "cgroup initjail-bad: one error record (stage initjail), no started" rec_seq_re cg-initjail-bad \
		"error 125 initjail: write\\($CPUSETCG/tasks, [0-9]+\\): No space left on device\\|"
	ok "cgroup initjail-bad: neither the initjail nor the program ran" \
		bash -c "[ ! -e '$H/.jai/initcg-bad.changes/initjail-cgroup' ] && ! grep -q ran '$WORK/cg-initjail-bad.out'"
	ok "cgroup initjail-bad: the initjail child was killed (the memory cgroup it had joined is empty)" \
		bash -c "for _ in \$(seq 20); do [ -z \"\$(cat '$MEMCG/cgroup.procs')\" ] && exit 0; sleep 0.1; done; exit 1"

	cleanup_cgroups
	ok "cgroup: the test cgroups are removed" \
		bash -c "[ ! -e '$MEMCG' ] && [ ! -e '$PIDSCG' ] && [ ! -e '$CPUSETCG' ] && [ ! -e '$FAKECG' ] && [ ! -L '$LINKCG' ] && [ ! -L '$LINKDIR' ]"
	CGROUPS_MADE=()
else
	echo "skip cgroup checks: /sys/fs/cgroup is not a tmpfs with cgroup v1 memory and pids hierarchies"
fi
# cgroup v2 (the unified hierarchy: /sys/fs/cgroup on a v2 host, /sys/fs/cgroup/unified on this hybrid one): init is
# cloned straight into the directory (CLONE_INTO_CGROUP), no pid written; the initjail is placed by a write.
V2ROOT=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ] && V2ROOT=$d && break
done
if [ -n "$V2ROOT" ]; then
	V2REL=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
	UCG=$V2ROOT${V2REL%/}/jai-smoke-v2-$$
	CGROUPS_MADE=("$UCG")
	mkdir "$UCG" || exit 1
	mkplan "$WORK/cg-v2.plan" cwd "$H/proj" grant "cwd:4:$H/proj" cgroup "$UCG" argv sh argv -c \
		argv 'cat /proc/self/cgroup /proc/1/cgroup; ls -l /proc/self/fd' stdin null stdout fd:5 stderr fd:6
	drive cg-v2 --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
	ok "cgroup v2: exit 0" rc_is 0 cg-v2
	ok "cgroup v2: the program and init are in the v2 cgroup (cloned into it)" \
		bash -c "[ \"\$(grep -c '^0::${UCG#"$V2ROOT"}\$' '$WORK/cg-v2.out')\" = 2 ]"
	ok "cgroup v2: the program holds no fd of the cgroup" out_lacks cg-v2 '-> .*jai-smoke-v2'
	ok "cgroup v2: the cgroup is empty after the session" [ -z "$(cat "$UCG/cgroup.procs")" ]
	# The v1 block's initjail script (written again: a v2-only host skips that block).
	printf '%s\n' '#!/bin/sh' 'cat /proc/self/cgroup >./initjail-cgroup' 'ls -l /proc/$$/fd >./initjail-fds' \
		'setsid sleep 60 </dev/null >/dev/null 2>&1 &' 'echo $! >./initjail-daemon' >"$IJ/cg.sh" && chmod 0755 "$IJ/cg.sh"
	JAIL=initcg2 mkplan "$WORK/cg-v2-initjail.plan" cwd "$H/proj" grant "cwd:4:$H/proj" cgroup "$UCG" \
		initjail "$IJ/cg.sh" argv sh argv -c argv 'echo ran' stdin null stdout fd:5 stderr fd:6
	drive cg-v2-initjail --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
	IJC=$H/.jai/initcg2.changes
	ok "cgroup v2 initjail: the session runs" bash -c "[ '$RC' = 0 ] && grep -qx ran '$WORK/cg-v2-initjail.out'"
	ok "cgroup v2 initjail: the initjail is in the v2 cgroup too, and holds no fd of it" \
		bash -c "grep -qx '0::${UCG#"$V2ROOT"}' '$IJC/initjail-cgroup' && ! grep -q jai-smoke-v2 '$IJC/initjail-fds'"
	IJD=$(cat "$IJC/initjail-daemon" 2>/dev/null)
	[ -n "$IJD" ] && kill -KILL "$IJD" 2>/dev/null
	cleanup_cgroups
	ok "cgroup v2: the test cgroup is removed" [ ! -e "$UCG" ]
	CGROUPS_MADE=()
else
	echo "skip cgroup v2 checks: no cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified"
fi
# --- changes summary (casual) -----------------------------------------------------------------------------------------
# After the exit record: `changes N T`, then up to 20 `changed PATH` (relative to the home), for what the session
# changed in the overlay's upper dir.
rm -f "$H/chg-victim" && echo victim >"$H/chg-victim" && chown "$U:" "$H/chg-victim"
chg_run() { # NAME JAIL SCRIPT: sh -c SCRIPT with $0 = the home
	JAIL=$2 mkplan "$WORK/$1.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv sh argv -c argv "$3" argv "$H" \
		stdin null stdout fd:5 stderr fd:6
	drive "$1" --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
}
chg_run chg-some chg 'echo a > "$0/chg-top"; mkdir -p "$0/.cache/x"; echo b > "$0/.cache/x/y"; rm "$0/chg-victim"'
ok "changes: exit 0" rc_is 0 chg-some
ok "changes: started, exit 0, then changes N 0 with N ≥ 3" rec_seq_re chg-some 'started\|exit 0\|changes ([3-9]|[1-9][0-9]+) 0\|.*'
ok "changes: N is the number of changed records here (5: chg-top, .cache, .cache/x, .cache/x/y, chg-victim)" \
	bash -c "[ \"\$(sed -n 3p '$WORK/chg-some.rec')\" = 'changes 5 0' ] && [ \$(grep -c '^changed ' '$WORK/chg-some.rec') = 5 ]"
ok "changes: changed chg-top" rec_has chg-some "changed chg-top"
ok "changes: changed .cache/x/y (relative to the home)" rec_has chg-some "changed .cache/x/y"
ok "changes: changed chg-victim (the whiteout of a removed home file)" rec_has chg-some "changed chg-victim"
ok "changes: directories before their contents" \
	bash -c "[ \"\$(grep -E '^changed \\.cache(/|\$)' '$WORK/chg-some.rec' | tr '\n' '|')\" = 'changed .cache|changed .cache/x|changed .cache/x/y|' ]"
ok "changes: the real home is untouched" [ "$(cat "$H/chg-victim")" = victim ]

chg_run chg-none chg 'cat "$0/chg-top" >/dev/null'
ok "changes: a session that changes nothing: changes 0 0" rec_seq chg-none "started|exit 0|changes 0 0|"

# A symlink is one entry, never descended: one to /etc, one to a dir full of new entries (the jail's /tmp, which is
# also the helper's /tmp while it walks, in the jail's mount namespace).
chg_run chg-link chg-link 'mkdir /tmp/chg-target && touch /tmp/chg-target/a /tmp/chg-target/b &&
	ln -s /etc "$0/etc-link" && ln -s /tmp/chg-target "$0/tmp-link"'
ok "changes: symlinks are counted, not followed" \
	bash -c "[ \"\$(sed -n 3p '$WORK/chg-link.rec')\" = 'changes 2 0' ] && [ \"\$(grep '^changed ' '$WORK/chg-link.rec' | sort | tr '\n' '|')\" = 'changed etc-link|changed tmp-link|' ]"
ok "changes: the symlinks are in the upper dir" [ -L "$H/.jai/chg-link.changes/etc-link" ]

# Depth cap: 70 nested dirs → 64 counted, T = 1, the first 20 listed.
chg_run chg-deep chg-deep 'd="$0"; for i in $(seq 70); do d="$d/d"; done; mkdir -p "$d"'
ok "changes: depth cap 64: changes 64 1" rec_line chg-deep 3 'changes 64 1'
ok "changes: 20 changed records at most, directories first" \
	bash -c "[ \$(grep -c '^changed ' '$WORK/chg-deep.rec') = 20 ] && [ \"\$(sed -n 4p '$WORK/chg-deep.rec')\" = 'changed d' ] && [ \"\$(sed -n 23p '$WORK/chg-deep.rec')\" = \"changed \$(printf 'd/%.0s' \$(seq 19))d\" ]"

# Long paths: 16 dirs of 250 bytes (4015 bytes: listed), then entries whose paths fit PATH_MAX but not a record (not
# listed) or not even PATH_MAX (counted only).
chg_run chg-long chg-long 'n=$(printf "%0250d" 0); cd "$0" && for i in $(seq 16); do mkdir "$n" && cd "$n" || exit 1; done &&
	touch "$(printf "%075d" 1)" && mkdir "$(printf "%079d" 2)" && touch "$(printf "%079d" 2)/f"'
ok "changes: long paths are counted (19), only those fitting a record listed (16)" \
	bash -c "[ \"\$(sed -n 3p '$WORK/chg-long.rec')\" = 'changes 19 0' ] && [ \$(grep -c '^changed ' '$WORK/chg-long.rec') = 16 ] && [ \$(awk '{ if (length(\$0) > m) m = length(\$0) } END { print m }' '$WORK/chg-long.rec') = \$((8 + 16 * 251 - 1)) ]"

# The visit cap: 100 000 entries, then the walk stops (T = 1); here every visited entry is new. (A storage dir on a
# tmpfs: 100 000 creations on this machine's ext4 take seconds.)
TMPSTORE=/var/lib/jai-smoke-tmpstore
install -d -m 0700 -o "$U" -g "$GID_" "$TMPSTORE" &&
	mount -t tmpfs -o "size=64m,mode=0700,uid=$UID_,gid=$GID_" jai-smoke-store "$TMPSTORE" && MOUNTS_MADE+=("$TMPSTORE")
STORAGE=$TMPSTORE chg_run chg-many chg-many 'python3 -c "
import os, sys
d = sys.argv[1] + \"/many\"
os.mkdir(d)
for i in range(100001):
    os.close(os.open(d + \"/%d\" % i, os.O_CREAT | os.O_WRONLY, 0o644))
" "$0"'
ok "changes: the visit cap: changes 100000 1 (of 100 002 new entries), 20 listed" \
	bash -c "[ '$RC' = 0 ] && [ \"\$(sed -n 3p '$WORK/chg-many.rec')\" = 'changes 100000 1' ] && [ \$(grep -c '^changed ' '$WORK/chg-many.rec') = 20 ]"
umount "/run/jai/$U/chg-many.home" && rmdir "/run/jai/$U/chg-many.home" && umount "$TMPSTORE" && rmdir "$TMPSTORE" &&
	MOUNTS_MADE=()

# A mount point in the changes dir (here a tmpfs root mounts; a user could with fusermount): not walked into, even
# when what is mounted there changes during the session; T = 1 and a warning.
install -d -o "$U" -g "$GID_" -m 0700 "$H/.jai/chg-mnt.changes" "$H/.jai/chg-mnt.changes/mnt-here" && mount -t tmpfs -o size=1m jai-smoke "$H/.jai/chg-mnt.changes/mnt-here" &&
	MOUNTS_MADE+=("$H/.jai/chg-mnt.changes/mnt-here")
JAIL=chg-mnt mkplan "$WORK/chg-mnt.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv sh argv -c \
	argv 'echo go; sleep 1; touch "$0/after"' argv "$H" stdin null stdout fd:5 stderr fd:6
(drive chg-mnt --fd "4=grant:$H/proj" --fd 5=out --fd 6=out; echo "$RC" >"$WORK/chg-mnt.rc") &
CHGBG=$!
for _ in $(seq 100); do grep -q go "$WORK/chg-mnt.out" 2>/dev/null && break; sleep 0.05; done
touch "$H/.jai/chg-mnt.changes/mnt-here/during-the-session"
wait "$CHGBG"
ok "changes: a mount point is not walked into: changes 1 1, changed after" \
	bash -c "[ \"\$(cat '$WORK/chg-mnt.rc')\" = 0 ] && [ \"\$(sed 's/^started [0-9]*\$/started/' '$WORK/chg-mnt.rec' | tr '\n' '|')\" = 'started|exit 0|changes 1 1|changed after|' ]"
ok "changes: a mount point: a warning" grep -q '^jai-helper: warning: changes: not walking into a mount point(mnt-here)' "$WORK/chg-mnt.err"
umount "$H/.jai/chg-mnt.changes/mnt-here" && MOUNTS_MADE=()

# A part of the tree the user cannot read: counted as far as it can be, T = 1, a warning; the exit status stays.
chg_run chg-locked chg-locked 'mkdir "$0/locked" && touch "$0/locked/f" && chmod 000 "$0/locked"; exit 4'
ok "changes: an unreadable dir: exit 4 (the program's), changes 1 1, changed locked" \
	bash -c "[ '$RC' = 4 ] && [ \"\$(sed 's/^started [0-9]*\$/started/' '$WORK/chg-locked.rec' | tr '\n' '|')\" = 'started|exit 4|changes 1 1|changed locked|' ]"
ok "changes: an unreadable dir: a warning on stderr" grep -q '^jai-helper: warning: changes: open(locked): Permission denied' "$WORK/chg-locked.err"
# The changes dir itself unreadable (the jail chmods its home: the upper dir's root): changes 0 1 and a warning.
chg_run chg-root chg-root 'chmod 000 "$0"; exit 5'
ok "changes: an unreadable changes dir: exit 5, changes 0 1" \
	bash -c "[ '$RC' = 5 ] && [ \"\$(sed 's/^started [0-9]*\$/started/' '$WORK/chg-root.rec' | tr '\n' '|')\" = 'started|exit 5|changes 0 1|' ]"
ok "changes: an unreadable changes dir: a warning on stderr" \
	grep -q "^jai-helper: warning: changes: open($H/.jai/chg-root.changes) as $U: Permission denied" "$WORK/chg-root.err"
chmod 0755 "$H/.jai/chg-root.changes" "$H/.jai/chg-locked.changes/locked"
rm -f "$H/chg-victim"

# --- strict and bare modes ------------------------------------------------------------------------------------------
# strict: the program runs as the untrusted account jai, in a private home (<storage>/<jail>.home), and every mount
# the helper makes is id-mapped: the user's files show as jai's, what jai creates lands on disk as the user's.
STRICT_PLAN=(cwd "$H/proj" grant "cwd:4:$H/proj")
strict_run() { # NAME ARGV...: strict jail "strict", cwd grant of ~/proj, stdout fd 5, stderr fd 6
	local name=$1
	shift
	local args=()
	for a in "$@"; do args+=(argv "$a"); done
	MODE=strict JAIL=strict mkplan "$WORK/$name.plan" "${STRICT_PLAN[@]}" "${args[@]}" stdin null stdout fd:5 stderr fd:6
	drive "$name" --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
}
strict_run st-ids sh -c 'id -u; id -g; id -G'
ok "strict: exit 0, records started, exit 0" rec_seq st-ids "started|exit 0|"
ok "strict: uid, gid and groups are the user's own sandbox ids only (base + uid), not the jai account's" \
	out_is st-ids "$SUID
$SUID
$SUID"
ok "strict: the private home was created 0700, the user's" \
	[ "$(stat -c '%a %u' "$H/.jai/strict.home" 2>/dev/null)" = "700 $UID_" ]
ok "strict: the passwd copy is root's, 0444" [ "$(stat -c '%a %u %F' "/run/jai/$U/passwd" 2>/dev/null)" = "444 0 regular file" ]
PASSWD_INO=$(stat -c %i "/run/jai/$U/passwd")
ok "strict: the group copy is root's, 0444" [ "$(stat -c '%a %u %F' "/run/jai/$U/group" 2>/dev/null)" = "444 0 regular file" ]
GROUP_INO=$(stat -c %i "/run/jai/$U/group")
strict_run st-names sh -c 'id -un; id -gn; getent group jai; grep -v "^jai:" /etc/group | md5sum; stat -c "%a %u" /etc/group'
ok "strict: the sandbox ids are named jai (user and group)" bash -c "[ \"\$(sed -n 1,2p '$WORK/st-names.out' | tr '\n' ' ')\" = 'jai jai ' ]"
ok "strict: getent group jai shows the sandbox gid, members unchanged" \
	[ "$(sed -n 3p "$WORK/st-names.out")" = "$(getent group jai | awk -F: -v OFS=: -v g="$SUID" '{ $3 = g; print }')" ]
ok "strict: every other line of /etc/group unchanged; the copy root's, 0444" \
	[ "$(sed -n 4,5p "$WORK/st-names.out" | tr '\n' ' ')" = "$(grep -v '^jai:' /etc/group | md5sum) 444 0 " ]

strict_run st-status sh -c 'cat /proc/self/status; ls /proc/self/fd | tr "\n" " "'
ok "strict: NoNewPrivs 1, no capabilities at all" bash -c "grep -qx \$'NoNewPrivs:\\t1' '$WORK/st-status.out' &&
	grep -qx \$'CapEff:\\t0000000000000000' '$WORK/st-status.out' && grep -qx \$'CapBnd:\\t0000000000000000' '$WORK/st-status.out'"
ok "strict: only fds 0 1 2 (+3 for ls's own dir): no id-map namespace fd" out_has st-status '^0 1 2 3 $'

rm -f "$H/proj/strict-file"
strict_run st-owner sh -c 'echo data > strict-file; stat -c %U strict-file; stat -c %U .; stat -c %U "$0/proj/granted.txt"' "$H"
ok "strict: through the cwd grant the user's files show as jai's" out_is st-owner "jai
jai
jai"
ok "strict: a file written into the granted cwd is the user's on the host" \
	[ "$(stat -c %u:%g "$H/proj/strict-file" 2>/dev/null)" = "$UID_:$GID_" ]

strict_run st-home sh -c 'ls -A "$0"; test -e "$0/realfile" || echo no-realfile; cat "$0/.secret/key" 2>/dev/null || echo no-secret' "$H"
ok "strict: the home shows none of the user's files (only the grant's mount point)" out_is st-home "proj
no-realfile
no-secret"
ok "strict: the grant's mount point was created in the private home, the user's on disk" \
	[ "$(stat -c %u "$H/.jai/strict.home/proj" 2>/dev/null)" = "$UID_" ]

MODE=strict JAIL=strict mkplan "$WORK/st-0600.plan" "${STRICT_PLAN[@]}" grant "ro:7:$H/ro-dir" argv sh argv -c \
	argv "cat $H/ro-dir/secret; (echo x > $H/ro-dir/new) 2>/dev/null || echo refused; cat $OUTSIDE/secret 2>&1" \
	stdin null stdout fd:5 stderr fd:6
drive st-0600 --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --fd "7=grant:$H/ro-dir"
ok "strict: a 0600 file of the user in a ro grant is readable, the grant not writable; one outside every grant is not" \
	out_is st-0600 "secret
refused
cat: $OUTSIDE/secret: Permission denied"

strict_run st-passwd sh -c 'getent passwd jai; stat -c "%a %u" /etc/passwd; (echo x >> /etc/passwd) 2>/dev/null || echo ro; grep -v "^jai:" /etc/passwd | md5sum'
ok "strict: getent passwd jai shows the user's home and shell" \
	[ "$(sed -n 1p "$WORK/st-passwd.out")" = "jai:x:$SUID:$SUID:JAI sandbox untrusted user:$H:$USHELL" ]
ok "strict: /etc/passwd is the copy (root's, 0444), not writable" \
	[ "$(sed -n 2,3p "$WORK/st-passwd.out" | tr '\n' ' ')" = "444 0 ro " ]
ok "strict: every other line of /etc/passwd unchanged" \
	[ "$(sed -n 4p "$WORK/st-passwd.out")" = "$(grep -v '^jai:' /etc/passwd | md5sum)" ]
ok "strict: the passwd copy is reused, not made again" [ "$(stat -c %i "/run/jai/$U/passwd")" = "$PASSWD_INO" ]
ok "strict: the group copy is reused, not made again" [ "$(stat -c %i "/run/jai/$U/group")" = "$GROUP_INO" ]
# Copies left by an older helper (the jai account's real ids, as every strict jail had before per-user ids): stale,
# so made again with this user's ids.
rm -f "/run/jai/$U/passwd" "/run/jai/$U/group"
install -m 0444 /etc/passwd "/run/jai/$U/passwd" && install -m 0444 /etc/group "/run/jai/$U/group"
strict_run st-stale sh -c 'id -un; id -gn; getent passwd jai | cut -d: -f3,4,6'
ok "strict: stale passwd and group copies (the shared jai ids) are made again with the user's own ids" \
	out_is st-stale "jai
jai
$SUID:$SUID:$H"
ok "strict: the stale copies were replaced (root's, 0444)" bash -c "[ \"\$(grep ^jai: '/run/jai/$U/passwd' | cut -d: -f3,4)\" = '$SUID:$SUID' ] &&
	[ \"\$(grep ^jai: '/run/jai/$U/group' | cut -d: -f3)\" = '$SUID' ] && [ \"\$(stat -c '%a %u' '/run/jai/$U/passwd')\" = '444 0' ]"
# Another /etc/passwd entry with the sandbox uid (the daemon refuses first; the helper checks it too). In a mount
# namespace of its own, where a copy of /etc/passwd with such an entry is bound over it (the helper's mounts there
# go with it).
rm -f "/run/jai/$U/passwd" "/run/jai/$U/group"
{ cat /etc/passwd; echo "jaiclash:x:$SUID:$SUID::/:/usr/sbin/nologin"; } >"$WORK/clash-passwd"
chmod 0644 "$WORK/clash-passwd"
MODE=strict JAIL=strict mkplan "$WORK/st-clash.plan" "${STRICT_PLAN[@]}" argv true stdin null stdout fd:5 stderr fd:6
if unshare -m --propagation private sh -c 'mount --bind "$0" /etc/passwd' "$WORK/clash-passwd" 2>/dev/null; then
	RC=0
	unshare -m --propagation private sh -c 'mount --bind "$0" /etc/passwd && exec "$@"' "$WORK/clash-passwd" \
		python3 "$DRIVE" --helper "$HELPER" --plan "$WORK/st-clash.plan" --records "$WORK/st-clash.rec" \
		--as-uid "$UID_" --as-gid "$GID_" ${JAI_SMOKE_ZYGOTE:+--zygote} --fd "4=grant:$H/proj" --fd 5=out --fd 6=out \
		>"$WORK/st-clash.out" 2>"$WORK/st-clash.err" || RC=$?
	ok "strict: another passwd entry with the sandbox uid refuses the session (exit 1)" rc_is 1 st-clash
	ok "strict: ... with a record naming the clash" rec_line st-clash 1 \
		"error 1 passwd: /etc/passwd: the sandbox id $SUID of $U is taken by another entry"
	ok "strict: ... and no passwd copy made" [ ! -e "/run/jai/$U/passwd" ]
else
	ok "strict: unshare -m and a bind mount over /etc/passwd (for the clash check)" false
fi

cat >"$H/proj/mounts.awk" <<'AWK'
$6 !~ /(^|,)nosuid(,|$)/ { print "not nosuid: " $5 }
$6 !~ /(^|,)nodev(,|$)/ && $5 != "/dev" && $5 != "/dev/pts" { print "not nodev: " $5 }
$5 == home || $5 == home "/proj" || $5 == "/etc/passwd" || $5 == "/etc/group" || $5 == "/tmp" || $5 == "/var/tmp" ||
$5 == "/dev/shm" {
	if ($6 !~ /(^|,)idmapped(,|$)/) print "not idmapped: " $5
	n++
}
$5 == "/etc/passwd" && $6 !~ /^ro,/ { print "/etc/passwd not read-only" }
$5 == "/etc/group" && $6 !~ /^ro,/ { print "/etc/group not read-only" }
END { if (n != 7) print n " id-mapped mounts, expected 7" }
AWK
strict_run st-mounts awk -v home="$H" -f mounts.awk /proc/self/mountinfo
ok "strict: every mount nosuid, nodev; home, grant, /etc/passwd and /etc/group (ro), /tmp, /var/tmp, /dev/shm id-mapped" \
	out_is st-mounts ""
rm -f "$H/proj/mounts.awk"

strict_run st-tmp sh -c 'echo t > /tmp/st-file; stat -c %U /tmp/st-file'
ok "strict: a file made in /tmp shows as jai's, and is the user's on the host" \
	bash -c "[ \"\$(sed -n 1p '$WORK/st-tmp.out')\" = jai ] && [ \"\$(stat -c %u '/run/jai/$U/tmp/strict/st-file')\" = '$UID_' ]"

MODE=strict JAIL=strict mkplan "$WORK/st-script.plan" "${STRICT_PLAN[@]}" script 'echo from-script' argv sh argv -c \
	argv '. "$JAI_SCRIPT"; stat -c %U "$JAI_SCRIPT"' stdin null stdout fd:5 stderr fd:6
drive st-script --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "strict: the startup script (the user's 0400 file) is readable as jai's" out_is st-script "from-script
jai"

MODE=strict JAIL=strict mkplan "$WORK/st-pty.plan" "${STRICT_PLAN[@]}" argv sh argv -c argv 'stat -c "%u %a" "$(tty)"' \
	stdin pty stdout pty stderr pty pty_rows 24 pty_cols 80
drive st-pty --fd "4=grant:$H/proj"
ok "strict: the pty slave is the sandbox uid's (0620)" out_has st-pty "^$SUID 620"

MODE=strict JAIL=strict mkplan "$WORK/st-bad-cwd.plan" cwd /nonexistent grant "cwd:4:$H/proj" argv true \
	stdin null stdout fd:5 stderr fd:6
drive st-bad-cwd --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "strict with a cwd grant: a missing cwd is fatal" rec_line st-bad-cwd 2 \
	'error 125 exec: chdir(/nonexistent): No such file or directory'

# -D (no cwd grant): the cwd is not in the private home → a notice, and the program starts in the home.
MODE=strict JAIL=strict-d mkplan "$WORK/st-nocwd.plan" cwd "$H/proj" initjail "$IJ/ok.sh" argv sh argv -c \
	argv 'pwd; ls -A "$0" | grep -v "^initjail-ran$"; stat -c %U "$0/initjail-ran"' argv "$H" \
	stdin null stdout fd:5 stderr fd:6
drive st-nocwd --fd 5=out --fd 6=out
ok "strict -D: notice No \"CWD\" in jail, after started" \
	rec_seq st-nocwd "started|notice No \"$H/proj\" in jail, changed to home directory|exit 0|"
ok "strict -D: the program starts in the (otherwise empty) home; the initjail's file shows as jai's" \
	bash -c "[ \"\$(sed -n '/^\\//,\$p' '$WORK/st-nocwd.out' | tr '\n' ' ')\" = '$H jai ' ]"
ok "strict initjail: ran as the user in <storage>/<jail>.home (as seen from the host)" \
	[ "$(sed -n 1p "$H/.jai/strict-d.home/initjail-ran" 2>/dev/null)" = "$H/.jai/strict-d.home $UID_ $GID_ 0022" ]
ok "strict initjail: outside the jail, and what it wrote is the user's" \
	bash -c "[ \"\$(sed -n 4p '$H/.jai/strict-d.home/initjail-ran')\" = outside-the-jail ] && [ \"\$(stat -c %u '$H/.jai/strict-d.home/initjail-ran')\" = '$UID_' ]"
MODE=strict JAIL=strict-d mkplan "$WORK/st-nocwd-again.plan" cwd "$H/proj" initjail "$IJ/ok.sh" argv true \
	stdin null stdout fd:5 stderr fd:6
drive st-nocwd-again --fd 5=out --fd 6=out
ok "strict initjail: not run when <jail>.home exists" \
	bash -c "[ \$(wc -l <'$H/.jai/strict-d.home/initjail-ran') = 4 ] && ! grep -q initjail-out '$WORK/st-nocwd-again.out'"

# -D with an explicit grant of the whole home: the real home, id-mapped, at its path; the storage dir in it covered.
MODE=strict JAIL=strict-d mkplan "$WORK/st-home-grant.plan" cwd "$H/proj" grant "rw:7:$H" argv sh argv -c \
	argv 'pwd; stat -c %U "$0/realfile"; cat "$0/realfile" "$0/.secret/key"; ls "$0/.jai" 2>&1; awk -v h="$0" '\''$5 == h && /idmapped/ { n++ } END { print n }'\'' /proc/self/mountinfo' \
	argv "$H" stdin null stdout fd:5 stderr fd:6
drive st-home-grant --fd 5=out --fd 6=out --fd "7=grant:$H"
ok "strict -D -d HOME: no notice (the cwd exists through the grant)" rec_seq st-home-grant "started|exit 0|"
ok "strict -D -d HOME: the user's home, id-mapped over the private one; the storage dir covered" \
	out_is st-home-grant "$H/proj
jai
real
key
ls: cannot open directory '$H/.jai': Permission denied
2"

# A storage dir the jail shows (here on the read-only root, outside the home): the very dir → covered.
MODE=strict JAIL=strict-store STORAGE=$STORE2 mkplan "$WORK/st-store.plan" "${STRICT_PLAN[@]}" argv awk argv \
	"\$5 == \"$STORE2\" && / jai-hidden / { n++ } END { print n + 0 }" argv /proc/self/mountinfo \
	stdin null stdout fd:5 stderr fd:6
drive st-store --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "strict: a storage dir the jail shows is covered; its private home is in it" \
	bash -c "[ \"\$(cat '$WORK/st-store.out')\" = 1 ] && [ -d '$STORE2/strict-store.home' ]"

# bare: the user's own ids, the same private home, nothing id-mapped.
MODE=bare JAIL=bare mkplan "$WORK/bare.plan" cwd "$H/proj" argv sh argv -c \
	argv 'id -u; id -G; pwd; ls -A "$0" | wc -l; echo b > "$0/bare-file"; grep -c idmapped /proc/self/mountinfo || true' \
	argv "$H" stdin null stdout fd:5 stderr fd:6
drive bare --fd 5=out --fd 6=out
ok "bare -D: notice No \"CWD\" in jail, after started" \
	rec_seq bare "started|notice No \"$H/proj\" in jail, changed to home directory|exit 0|"
ok "bare: the user's ids, starts in the empty private home, no id-mapped mount" out_is bare "$UID_
$GID_
$H
0
0"
ok "bare: a file made in the home lands in <storage>/<jail>.home, the user's" \
	bash -c "[ \"\$(cat '$H/.jai/bare.home/bare-file' 2>/dev/null)\" = b ] && [ \"\$(stat -c %u '$H/.jai/bare.home/bare-file')\" = '$UID_' ]"
MODE=bare JAIL=bare mkplan "$WORK/bare-grant.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv sh argv -c \
	argv 'pwd; stat -c %U .; test -e "$0/realfile" || echo no-realfile; test -e /etc/passwd && getent passwd jai | cut -d: -f6' \
	argv "$H" stdin null stdout fd:5 stderr fd:6
drive bare-grant --fd "4=grant:$H/proj" --fd 5=out --fd 6=out
ok "bare: a cwd grant as in casual mode, the real home hidden, /etc/passwd the host's" out_is bare-grant "$H/proj
$U
no-realfile
/"

# --- host state -------------------------------------------------------------------------------------------------
ok "/run/jai/<user> is root 0750" [ "$(stat -c '%u %a' "/run/jai/$U")" = "0 750" ]
ok "/run/jai/<user> ACL: user:<uid>:r-x only" python3 -c "
import os, struct, sys
b = os.getxattr('/run/jai/$U', 'system.posix_acl_access')
ents = [struct.unpack_from('<HHI', b, 4 + 8 * i) for i in range((len(b) - 4) // 8)]
sys.exit(0 if struct.unpack_from('<I', b)[0] == 2 and ents == [(1,7,0xffffffff),(2,5,$UID_),(4,0,0xffffffff),(0x10,5,0xffffffff),(0x20,0,0xffffffff)] else 1)"
ok "the test user can read /run/jai/<user>" su -s /bin/sh "$U" -c "ls /run/jai/$U >/dev/null"
ok "the overlay stays mounted in the host namespace" \
	awk -v p="/run/jai/$U/default.home" '$5 == p && / - overlay jai-default.home / { f = 1 } END { exit !f }' /proc/self/mountinfo

# --- teardown -----------------------------------------------------------------------------------------------------
# One jail, not running: its overlay goes, its work dir's leftovers are deleted, the rest stays.
ok "before: masked.home is mounted" is_mounted "/run/jai/$U/masked.home"
MW=$H/.jai/masked.work/work
touch "$MW/leftover-empty" && mknod "$MW/leftover-whiteout" c 0 0 && echo data >"$MW/keep-data" && mkdir "$MW/keep-dir"
tdplan "$WORK/td-one.plan" jail masked
drive td-one
ok "teardown of one jail: exit 0" rc_is 0 td-one
ok "teardown of one jail: only deleted notices of its work dir, then exit 0" \
	bash -c "[ -z \"\$(sed '\$d' '$WORK/td-one.rec' | grep -v '^notice deleted $MW/')\" ] && [ \"\$(tail -n 1 '$WORK/td-one.rec')\" = 'exit 0' ]"
ok "teardown of one jail: deleted notice for the empty file" rec_has td-one "notice deleted $MW/leftover-empty"
ok "teardown of one jail: deleted notice for the whiteout" rec_has td-one "notice deleted $MW/leftover-whiteout"
ok "teardown of one jail: its overlay is unmounted and its mount point removed" \
	bash -c "! awk -v p='/run/jai/$U/masked.home' '\$5 == p { f = 1 } END { exit !f }' /proc/self/mountinfo && [ ! -e '/run/jai/$U/masked.home' ]"
ok "teardown of one jail: a non-empty file and a dir in the work dir stay" \
	bash -c "[ -s '$MW/keep-data' ] && [ -d '$MW/keep-dir' ]"
ok "teardown of one jail: the other jails and tmp stay mounted" is_mounted "/run/jai/$U/default.home"
ok "teardown of one jail: tmp stays mounted, the jail's tmp dir stays" \
	bash -c "awk -v p='/run/jai/$U/tmp' '\$5 == p { f = 1 } END { exit !f }' /proc/self/mountinfo && [ -d '/run/jai/$U/tmp/masked' ]"
ok "teardown of one jail: the changes stay" [ -c "$H/.jai/masked.changes/.secret" ]

# While a session of the jail runs: its mounts are held, nothing is unmounted under it, it keeps working.
mkplan "$WORK/busy.plan" cwd "$H/proj" grant "cwd:4:$H/proj" argv sh argv -c \
	argv "echo started-busy; sleep 3; echo still-here; cat $H/newfile; echo x > /tmp/busy-file && echo tmp-ok" \
	stdin null stdout fd:5 stderr fd:6
(drive busy --fd "4=grant:$H/proj" --fd 5=out --fd 6=out --timeout 20; echo "$RC" >"$WORK/busy.rc") &
BUSY=$!
for _ in $(seq 100); do grep -q started-busy "$WORK/busy.out" 2>/dev/null && break; sleep 0.1; done
tdplan "$WORK/td-busy-one.plan" jail default
drive td-busy-one
ok "teardown of a running jail: exit 1" rc_is 1 td-busy-one
ok "teardown of a running jail: umount(…): Device or resource busy, then exit 1" rec_seq td-busy-one \
	"notice umount(\"/run/jai/$U/default.home\"): Device or resource busy|exit 1|"
tdplan "$WORK/td-busy-all.plan"
drive td-busy-all
ok "teardown of all while a jail runs: exit 1" rc_is 1 td-busy-all
ok "teardown of all while a jail runs: the tmp mount is busy" \
	rec_has td-busy-all "notice umount(\"/run/jai/$U/tmp\"): Device or resource busy"
ok "teardown of all while a jail runs: the jail's overlay is busy" \
	rec_has td-busy-all "notice umount(\"/run/jai/$U/default.home\"): Device or resource busy"
ok "teardown of all while a jail runs: no work dir cleaned, last record exit 1" \
	bash -c "! grep -q '^notice deleted' '$WORK/td-busy-all.rec' && [ \"\$(tail -n 1 '$WORK/td-busy-all.rec')\" = 'exit 1' ]"
ok "teardown of all while a jail runs: the other overlays are unmounted" \
	bash -c "[ -z \"\$(awk '\$5 ~ \"^/run/jai/$U/init\"' /proc/self/mountinfo)\" ]"
wait "$BUSY"
ok "the running session kept working (home, /tmp) and exited 0" \
	bash -c "[ \"\$(cat '$WORK/busy.rc')\" = 0 ] && [ \"\$(tr '\n' ' ' <'$WORK/busy.out')\" = 'started-busy still-here new tmp-ok ' ]"

# All jails, nothing running: everything unmounted and removed; leftovers in root-owned work subdirs deleted (ours, and
# overlayfs' own, such as its shared whiteout #N), and nothing else (user-owned subdirs, symlinks to dirs elsewhere).
DW=$H/.jai/default.work
rm -rf /tmp/jai-smoke-victim && mkdir /tmp/jai-smoke-victim && touch /tmp/jai-smoke-victim/empty
touch "$DW/work/#leftover" && mknod "$DW/work/whiteout" c 0 0 && ln -s /etc/passwd "$DW/work/link" && echo d >"$DW/work/data"
ln -s /tmp/jai-smoke-victim "$DW/evil-link"
install -d -o "$U" -g "$GID_" "$DW/usersub" && touch "$DW/usersub/empty" && chown "$U:" "$DW/usersub/empty"
tdplan "$WORK/td-all.plan"
drive td-all
ok "teardown of all: exit 0" rc_is 0 td-all
ok "teardown of all: deleted notices for the leftovers of default.work/work, then exit 0" \
	bash -c "grep -qxF 'notice deleted $DW/work/#leftover' '$WORK/td-all.rec' && grep -qxF 'notice deleted $DW/work/whiteout' '$WORK/td-all.rec' && grep -qxF 'notice deleted $DW/work/link' '$WORK/td-all.rec' && [ \"\$(tail -n 1 '$WORK/td-all.rec')\" = 'exit 0' ]"
ok "teardown of all: only deleted notices" bash -c "[ -z \"\$(grep -v '^notice deleted ' '$WORK/td-all.rec' | grep -vx 'exit 0')\" ]"
ok "teardown of all: no mount left under /run/jai/<user>" [ -z "$(mounts_under "/run/jai/$U")" ]
ok "teardown of all: /run/jai/<user> is gone" no_state
ok "teardown of all: /run/jai stays" [ -d /run/jai ]
ok "teardown of all: data in the work dir stays" [ -s "$DW/work/data" ]
ok "teardown of all: symlinks and user-owned dirs in the work dir are not followed" \
	bash -c "[ -e /tmp/jai-smoke-victim/empty ] && [ -e '$DW/usersub/empty' ] && [ -e /etc/passwd ]"
ok "teardown of all: the changes stay" [ -e "$H/.jai/default.changes/newfile" ]
rm -rf /tmp/jai-smoke-victim "$DW/evil-link" "$DW/usersub" "$DW/work/data"

drive td-nothing
ok "teardown again: nothing there, exit 0" rec_is td-nothing "exit 0"

# A session after a teardown sets everything up again (new lock, tmp, overlay).
run_prog after-teardown sh -c 'cat "$0/newfile"' "$H"
ok "a session after the teardown works (the changes are back)" out_is after-teardown new
# strict: only the shared passwd copy; bare: nothing.
strict_run st-after-teardown true
ok "a strict session after the teardown makes the passwd and group copies again" \
	bash -c "[ -f '/run/jai/$U/passwd' ] && [ -f '/run/jai/$U/group' ]"
MODE=strict tdplan "$WORK/td-strict.plan" jail strict
drive td-strict
ok "teardown strict: exit 0, passwd and group removed, the casual overlay stays" \
	bash -c "[ '$RC' = 0 ] && [ ! -e '/run/jai/$U/passwd' ] && [ ! -e '/run/jai/$U/group' ] && awk -v p='/run/jai/$U/default.home' '\$5 == p { f = 1 } END { exit !f }' /proc/self/mountinfo"
ok "teardown strict: the private home stays" [ -e "$H/.jai/strict.home/proj" ]
MODE=bare tdplan "$WORK/td-bare.plan" jail default
drive td-bare
ok "teardown bare: exit 0, nothing changed" \
	bash -c "[ '$RC' = 0 ] && [ \"\$(cat '$WORK/td-bare.rec')\" = 'exit 0' ] && [ -d '/run/jai/$U/tmp/default' ]"
cp "$WORK/td-all.plan" "$WORK/td-all-again.plan"
drive td-all-again
ok "teardown of all again: exit 0, gone" bash -c "[ '$RC' = 0 ] && [ ! -e '/run/jai/$U' ]"
# One jail, when only the lock is left: the lock and /run/jai/<user> go too.
install -d -m 0750 "/run/jai/$U" && install -m 0600 /dev/null "/run/jai/$U/.lock"
tdplan "$WORK/td-one-empty.plan" jail nosuch
drive td-one-empty
ok "teardown of one jail with nothing left: exit 0, /run/jai/<user> removed" \
	bash -c "[ '$RC' = 0 ] && [ ! -e '/run/jai/$U' ]"

no_procs_now() { [ -z "$(pgrep -u "$U")" ] && [ -z "$(pgrep -u "$SUID")" ] && [ -z "$(pgrep -x jai-init)" ] && [ -z "$(pgrep -x jai-helper)" ]; }
# Processes of the last checks (su, a killed jail) may take a moment to be reaped.
no_procs() { for _ in $(seq 20); do no_procs_now && return 0; sleep 0.1; done; return 1; }
ok "no helper or jailed process left" no_procs

cleanup_state
ok "umount of everything under /run/jai/<user> succeeds" [ ! -e "/run/jai/$U" ]

# --- summary ------------------------------------------------------------------------------------------------------
echo
echo "helper smoke ($([ "${SANITIZE:-}" = 1 ] && echo "ASan/UBSan build" || echo "normal build")): $PASS passed, $FAIL failed"
for f in "${FAILED[@]}"; do echo "  failed: $f"; done
if [ "${SANITIZE:-}" = 1 ] && [ -z "${JAI_SMOKE_NO_BUILD:-}" ]; then
	rm -f "$HELPER"
	make -s -C "$ROOT/native" build/jai-helper SANITIZE=0 || exit 1
fi
[ "$FAIL" = 0 ]
