// The helper runs as root with the plan we give it: refuse one that a non-root user could have replaced.
import fs from 'node:fs';
import path from 'node:path';

export function checkHelperBinary(helperPath: string): string | null {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(helperPath);
  } catch (e) {
    return `${helperPath}: ${e instanceof Error ? e.message : String(e)} (run npm run build)`;
  }
  if (!stat.isFile() || (stat.mode & 0o111) === 0) return `${helperPath}: not an executable file`;
  if (stat.uid !== 0 || (stat.mode & 0o022) !== 0)
    return `${helperPath}: must be owned by root and not group/other writable`;
  for (let dir = path.dirname(helperPath); ; dir = path.dirname(dir)) {
    const d = fs.statSync(dir);
    if (d.uid !== 0 || (d.mode & 0o022) !== 0) {
      // Sticky world-writable dirs (/tmp) still let others rename our entries away: refuse them too.
      return `${dir}: directories above the helper must be owned by root and not group/other writable`;
    }
    if (dir === '/') return null;
  }
}
