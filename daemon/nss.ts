// NSS lookups for the daemon, through the addon (getpwuid_r & co.: Node only knows its own user).
import * as native from '../native/addon';
import type { NssLookup } from './server/peer';

export const nativeNss: NssLookup = {
  getpwuid: (uid) => native.getpwuid(uid),
  getpwnam: (name) => native.getpwnam(name),
  getgrouplist: (name, gid) => native.getgrouplist(name, gid),
  getgrnam: (name) => native.getgrnam(name),
  getgrgid: (gid) => native.getgrgid(gid),
};
