// sd_listen_fds(3): a listening socket passed by systemd (jaid.socket) as fd 3. The LISTEN_* variables are removed
// from the environment at once, so no child ever sees them.
const SD_LISTEN_FDS_START = 3;

export interface ActivationEnv {
  LISTEN_PID?: string | undefined;
  LISTEN_FDS?: string | undefined;
}

/** The inherited fd when the variables are meant for this process and name exactly one socket; else null. */
export function activationFd(env: ActivationEnv, pid: number): number | null | { error: string } {
  if (env.LISTEN_FDS === undefined || env.LISTEN_PID === undefined) return null;
  if (env.LISTEN_PID !== String(pid)) return null;
  if (env.LISTEN_FDS !== '1') return { error: `LISTEN_FDS=${env.LISTEN_FDS}: jaid takes exactly one socket` };
  return SD_LISTEN_FDS_START;
}

export function takeActivationEnv(): ActivationEnv {
  const env = { LISTEN_PID: process.env['LISTEN_PID'], LISTEN_FDS: process.env['LISTEN_FDS'] };
  delete process.env['LISTEN_PID'];
  delete process.env['LISTEN_FDS'];
  delete process.env['LISTEN_FDNAMES'];
  return env;
}
