import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveIdentity, type NssLookup, type PasswdEntry } from '../../daemon/server/peer';

const users: PasswdEntry[] = [
  { name: 'root', uid: 0, gid: 0, dir: '/root', shell: '/bin/bash', gecos: 'root' },
  { name: 'alice', uid: 1001, gid: 1001, dir: '/home/alice/', shell: '', gecos: '' },
  { name: 'bob', uid: 1002, gid: 1002, dir: '/home/bob', shell: '/bin/zsh', gecos: 'Bob' },
];
const nss: NssLookup = {
  getpwuid: (uid) => users.find((u) => u.uid === uid) ?? null,
  getpwnam: (name) => users.find((u) => u.name === name) ?? null,
  getgrouplist: (_name, gid) => [gid, 0, 27, gid],
  getgrnam: () => null,
  getgrgid: () => null,
};

describe('peer identity', () => {
  it('comes from SO_PEERCRED; a claimed user is ignored for non-root peers', () => {
    const result = resolveIdentity({ pid: 5, uid: 1001, gid: 1001 }, 'bob', nss);
    assert.ok(result.ok);
    assert.equal(result.value.user, 'alice');
    assert.equal(result.value.home, '/home/alice');
    assert.equal(result.value.shell, '/bin/sh');
    assert.deepEqual(result.value.groups, [1001, 27], 'group 0 dropped, duplicates merged');
  });

  it('lets root act for SUDO_USER and refuses root itself', () => {
    const sudo = resolveIdentity({ pid: 5, uid: 0, gid: 0 }, 'bob', nss);
    assert.ok(sudo.ok);
    assert.equal(sudo.value.uid, 1002);
    assert.equal(sudo.value.peerUid, 0);
    const bare = resolveIdentity({ pid: 5, uid: 0, gid: 0 }, null, nss);
    assert.equal(bare.ok, false);
    const asRoot = resolveIdentity({ pid: 5, uid: 0, gid: 0 }, 'root', nss);
    assert.equal(asRoot.ok, false);
  });

  it('refuses unknown users', () => {
    const result = resolveIdentity({ pid: 5, uid: 4242, gid: 4242 }, null, nss);
    if (result.ok) return assert.fail('expected a refusal');
    assert.equal(result.code, 'USER_UNKNOWN');
  });
});
