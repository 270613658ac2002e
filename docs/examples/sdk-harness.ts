// An agent harness that runs every tool command in a jail (docs/sdk.md). One JaiClient, one connection reused for
// each command; each result is printed as one JSON line. Compiled with the rest of the tree and run by
// test/integration/sdk.test.ts, so it cannot rot.
//
//   node dist/docs/examples/sdk-harness.js                      # the demo tool calls below
//   node dist/docs/examples/sdk-harness.js -- sh -c 'make test'  # one tool call of your own
import { connect, isJaiClientError, type RunResult } from 'jai-sandbox/client';

/** What a model asked to run: a command, maybe some stdin, a time limit. */
interface ToolCall {
  argv: string[];
  input?: string;
  timeoutMs?: number;
}

interface ToolResult {
  argv: string[];
  /** The exit code, or 128 + the signal, as a shell reports it; null when the command could not run at all. */
  exit: number | null;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
  /** Why jai refused or could not run it (a stable code such as POLICY_DENIED or EXEC_FAILED). */
  error?: { code: string; message: string };
}

const DEMO: ToolCall[] = [
  { argv: ['sh', '-c', 'echo "hello from $(id -un) in $(pwd)"'] },
  { argv: ['sh', '-c', 'echo "a file" > harness-output.txt && wc -c harness-output.txt'] },
  { argv: ['sort'], input: 'pear\napple\nfig\n' },
  { argv: ['sh', '-c', 'echo failing >&2; exit 3'] },
  { argv: ['sleep', '30'], timeoutMs: 300 },
  { argv: ['no-such-tool'] },
];

function exitOf(result: RunResult): number {
  return result.status.signal !== undefined ? 128 + result.status.signal : result.status.code;
}

async function main(): Promise<void> {
  const dashes = process.argv.indexOf('--');
  const calls = dashes >= 0 ? [{ argv: process.argv.slice(dashes + 1) }] : DEMO;
  // One client for the whole agent run: the connection and the Hello are paid once.
  const jai = await connect();
  try {
    for (const call of calls) {
      let result: ToolResult;
      try {
        const r = await jai.run({
          argv: call.argv,
          cwd: process.cwd(), // the project: granted read-write, everything else read-only or copy-on-write
          network: 'none',
          ...(call.input === undefined ? {} : { input: call.input }),
          ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
        });
        result = {
          argv: call.argv,
          exit: exitOf(r),
          stdout: r.stdout.toString(),
          stderr: r.stderr.toString(),
          ...(r.timedOut ? { timedOut: true } : {}),
        };
      } catch (e) {
        if (!isJaiClientError(e)) throw e;
        // Refused by policy, not found, not executable…: a result for the model, not a crash of the harness.
        result = { argv: call.argv, exit: null, stdout: '', stderr: '', error: { code: e.code, message: e.message } };
      }
      console.log(JSON.stringify(result));
    }
    console.log(JSON.stringify({ connectionsOpened: jai.stats.opened, requests: jai.stats.served }));
  } finally {
    await jai.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
