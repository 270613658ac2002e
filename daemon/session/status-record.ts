// Parsing of the helper's status records (native/README.md). Pure.

export type StatusRecord =
  | { kind: 'pty' }
  | { kind: 'started'; pid: number }
  | { kind: 'error'; code: number; stage: string; message: string }
  | { kind: 'exit'; code: number }
  | { kind: 'signal'; signo: number }
  | { kind: 'stopped'; signo: number }
  | { kind: 'notice'; text: string }
  | { kind: 'masks-ignored'; path: string }
  | { kind: 'changes'; count: number; truncated: boolean }
  | { kind: 'changed'; path: string };

const MAX_RECORD = 4096;
/** SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU (x86-64, arm64). */
const STOP_SIGNALS: ReadonlySet<number> = new Set([19, 20, 21, 22]);

function smallInt(text: string | undefined, max: number): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

export function parseStatusRecord(data: Buffer): StatusRecord | null {
  if (data.length === 0 || data.length > MAX_RECORD) return null;
  const text = data.toString('utf8');
  const space = text.indexOf(' ');
  const verb = space < 0 ? text : text.slice(0, space);
  const rest = space < 0 ? '' : text.slice(space + 1);
  switch (verb) {
    case 'pty':
      return rest === '' ? { kind: 'pty' } : null;
    case 'started': {
      const pid = smallInt(rest, 0x7fffffff);
      return pid === null || pid < 1 ? null : { kind: 'started', pid };
    }
    case 'exit': {
      const code = smallInt(rest, 255);
      return code === null ? null : { kind: 'exit', code };
    }
    case 'signal': {
      const signo = smallInt(rest, 64);
      return signo === null || signo < 1 ? null : { kind: 'signal', signo };
    }
    case 'stopped': {
      const signo = smallInt(rest, 64);
      return signo === null || !STOP_SIGNALS.has(signo) ? null : { kind: 'stopped', signo };
    }
    case 'notice':
      return rest === '' ? null : { kind: 'notice', text: rest };
    case 'masks-ignored':
      return rest.startsWith('/') ? { kind: 'masks-ignored', path: rest } : null;
    case 'changes': {
      const match = /^(\d{1,10}) ([01])$/.exec(rest);
      const count = smallInt(match?.[1], 0xffffffff);
      return match === null || count === null ? null : { kind: 'changes', count, truncated: match[2] === '1' };
    }
    case 'changed':
      return rest === '' || rest.startsWith('/') ? null : { kind: 'changed', path: rest };
    case 'error': {
      const sep = rest.indexOf(' ');
      const code = smallInt(sep < 0 ? rest : rest.slice(0, sep), 255);
      if (code === null) return null;
      const text = sep < 0 ? '' : rest.slice(sep + 1);
      const colon = text.indexOf(': ');
      const stage = colon > 0 && /^[a-z]+$/.test(text.slice(0, colon)) ? text.slice(0, colon) : '';
      return { kind: 'error', code, stage, message: stage === '' ? text : text.slice(colon + 2) };
    }
    default:
      return null;
  }
}
