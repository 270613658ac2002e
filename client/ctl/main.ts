// jaictl: the admin command-line tool of jai (bin/jaictl). Entry point only: the work is in run.ts.
import { runJaictl } from './run';

// `jaictl audit --json | head`: the reader went away; stop quietly, as a program killed by SIGPIPE would.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  });
}

runJaictl(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  columns: process.stdout.isTTY ? process.stdout.columns : null,
}).then(
  (code) => {
    // No process.exit(): stdout may still be draining into a pipe. Nothing else holds the process.
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`jaictl: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
