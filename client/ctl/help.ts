// jaictl --help and --version.
import { VERSION } from '../cli/version';

export const HELP = `usage: jaictl [--socket PATH] [--json] COMMAND [ARG]...

Administer jaid, the jai sandbox daemon, through its admin socket (root and the
policy's admin group only).

Commands:
  sessions [--user U] [--state S] [--since T] [--all]
                       list sessions (running ones unless --state or --all)
  show ID              every detail of one session
  kill ID              hang up a running session
  audit [--since T] [--until T] [--user U]
                       the audit log, one line per event (--json: NDJSON)
  policy check FILE    validate a policy file locally (no daemon needed)
  policy reload        make jaid re-read its policy file
  policy show          the policy jaid is applying
  health               daemon status, and whether session limits are enforced

Options:
  --socket PATH        the admin socket (default: $JAI_ADMIN_SOCKET, else
                       /run/jai/admin.sock)
  --json               print the daemon's JSON instead of text
  -h, --help           print this help and exit
  --version            print the version and exit

ID is a full session id or a prefix of at least 6 hex digits naming one session.
T is an ISO 8601 date or time (2026-11-30, 2026-11-30T14:00, …Z), local time
unless a zone is given, or an age such as 90s, 30m, 2h, 7d, 2w.
S is running, exited, signaled, failed, denied or daemon-restart.

Exit status: 0 ok; 1 refused by jaid, not found, or invalid policy; 2 usage
error or ambiguous ID; 3 cannot reach jaid. See jaictl(8).
`;

export const VERSION_TEXT = `jaictl ${VERSION} (jaid admin client)\n`;
