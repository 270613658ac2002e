// jaictl, in-process: argv and output streams in, an exit code out. The entry point (main.ts) and the tests call
// this. Only argument parsing is loaded up front; the API client and the policy loader are loaded by the commands
// that need them.
import { parseArgs, type Invocation } from './args';
import { escapeText, toJson } from './escape';
import { HELP, VERSION_TEXT } from './help';
import { failed, OK, write, type CtlFailure, type CtlIo, type CtlOutcome } from './output';
import type * as Commands from './commands';
import type * as PolicyCheck from './policy-check';

export type { CtlIo } from './output';

const TRY_HELP = "Try 'jaictl --help' for more information.\n";

export const EXIT_OK = 0;
/** jaid refused, nothing found, or the policy file is invalid. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** jaid cannot be reached. */
export const EXIT_UNREACHABLE = 3;

/** Why a connect failed, in words an administrator can act on. */
export function connectHint(code: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return ' — the admin socket is for root and the admin group';
    case 'ENOENT':
    case 'ECONNREFUSED':
      return ' — is jaid running?';
    case 'ENOTSOCK':
      return ' — not a socket';
    default:
      return '';
  }
}

function exitCode(failure: CtlFailure): number {
  switch (failure.kind) {
    case 'usage':
    case 'ambiguous':
      return EXIT_USAGE;
    case 'connect':
    case 'timeout':
      return EXIT_UNREACHABLE;
    case 'refused':
    case 'protocol':
    case 'fatal':
      return EXIT_FAILED;
  }
}

function message(failure: CtlFailure): string {
  switch (failure.kind) {
    case 'connect':
      return `cannot connect to ${failure.socket}: ${failure.code}${connectHint(failure.code)}`;
    case 'timeout':
      return `no answer from jaid on ${failure.socket} within ${failure.seconds} s`;
    case 'usage':
    case 'ambiguous':
    case 'refused':
    case 'protocol':
    case 'fatal':
      return failure.message;
  }
}

async function policyCheck(file: string, inv: Invocation, io: CtlIo): Promise<CtlOutcome> {
  let check: PolicyCheck.PolicyChecker;
  if (io.checkPolicy !== undefined) check = io.checkPolicy;
  else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for this command
    const loader = (require('./policy-check') as typeof PolicyCheck).loadPolicyChecker();
    if (!loader.ok) return failed({ kind: 'fatal', message: loader.message });
    check = loader.check;
  }
  const result = check(file);
  if (inv.json) {
    const answer = result.ok
      ? { file, ok: true, rules: result.policy.rules.length, adminGroup: result.policy.adminGroup }
      : { file, ok: false, message: result.message };
    await write(io.stdout, toJson(answer));
    if (!result.ok) return failed({ kind: 'fatal', message: result.message });
    return OK;
  }
  if (!result.ok) return failed({ kind: 'fatal', message: result.message });
  const rules = result.policy.rules.length;
  const group = result.policy.adminGroup === null ? 'no admin group' : `admin group ${result.policy.adminGroup}`;
  await write(io.stdout, escapeText(`${file}: ok (${rules} rule${rules === 1 ? '' : 's'}, ${group})`) + '\n');
  return OK;
}

export async function runJaictl(argv: readonly string[], io: CtlIo): Promise<number> {
  const parsed = parseArgs(argv, { env: io.env, now: io.now?.() ?? new Date() });
  let outcome: CtlOutcome;
  if (!parsed.ok) outcome = failed({ kind: 'usage', message: parsed.message });
  else {
    const inv = parsed.invocation;
    const command = inv.command;
    switch (command.kind) {
      case 'help':
        await write(io.stdout, HELP);
        return EXIT_OK;
      case 'version':
        await write(io.stdout, VERSION_TEXT);
        return EXIT_OK;
      case 'policy-check':
        outcome = await policyCheck(command.file, inv, io);
        break;
      default: {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- node:http and the formatters, on demand
        const commands = require('./commands') as typeof Commands;
        outcome = await commands.runApiCommand(command, inv, io);
      }
    }
  }
  if (outcome.ok) return EXIT_OK;
  const { failure } = outcome;
  // Line by line: a loader's message may span lines; nothing else that controls a terminal gets through.
  await write(io.stderr, `jaictl: ${message(failure).split('\n').map(escapeText).join('\n')}\n`);
  if (failure.kind === 'usage') await write(io.stderr, TRY_HELP);
  return exitCode(failure);
}
