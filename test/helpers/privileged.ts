// Guard for tests that need root and the real kernel: under CI (CI=true) a missing privilege is a failure,
// elsewhere the tests are skipped with the reason.
export function privilegedSkipReason(): string | false {
  if (process.getuid?.() === 0) return false;
  const reason = 'needs root (real daemon, namespaces, overlayfs)';
  if (process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false')
    throw new Error(`privileged test cannot run under CI: ${reason}`);
  return reason;
}
