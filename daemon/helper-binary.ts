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
    // A sticky directory (/tmp) is fine: others cannot rename or remove the root-owned entry in it.
    const sticky = (d.mode & 0o1000) !== 0;
    if (d.uid !== 0 || ((d.mode & 0o022) !== 0 && !sticky))
      return `${dir}: directories above the helper must be owned by root and not writable by others`;
    if (dir === '/') return null;
  }
}
