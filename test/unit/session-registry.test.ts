// The registry's finishing sessions: still counted, and waited for by afterFinishing (pure, no root).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionRegistry } from '../../daemon/session/registry';

const live = (id: string, uid: number) => ({ id, uid, mode: 'casual' as const, hangup: () => undefined });
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('session registry', () => {
  it('counts finishing sessions until they are removed', () => {
    const r = new SessionRegistry();
    r.add(live('a', 1));
    r.add(live('b', 1));
    r.add(live('c', 2));
    r.finishing('a');
    assert.equal(r.countForUid(1), 2);
    assert.equal(r.hasFinishing(1), true);
    assert.equal(r.hasFinishing(2), false);
    r.remove('a');
    assert.equal(r.countForUid(1), 1);
    assert.equal(r.hasFinishing(1), false);
  });

  it('runs a waiter at once without finishing sessions, else on the turn after the last one of that uid ends', async () => {
    const r = new SessionRegistry();
    const ran: string[] = [];
    r.afterFinishing(1, 60_000, () => ran.push('none'));
    assert.deepEqual(ran, ['none']);
    r.add(live('a', 1));
    r.add(live('b', 1));
    r.add(live('c', 2));
    r.finishing('a');
    r.finishing('b');
    r.finishing('c');
    r.afterFinishing(1, 60_000, () => ran.push('uid 1'));
    r.remove('c');
    r.remove('a');
    await turn();
    assert.deepEqual(ran, ['none'], 'b of uid 1 is still finishing');
    r.remove('b');
    assert.deepEqual(ran, ['none'], 'not from within the remove');
    await turn();
    assert.deepEqual(ran, ['none', 'uid 1']);
  });

  it('runs a waiter after its deadline when the session does not end', async () => {
    const r = new SessionRegistry();
    r.add(live('a', 1));
    r.finishing('a');
    // The deadline's timer does not keep the process alive (nor a stopping jaid): this one does, meanwhile.
    const keepAlive = setTimeout(() => undefined, 5000);
    const ran = await new Promise<boolean>((resolve) => r.afterFinishing(1, 20, () => resolve(true)));
    clearTimeout(keepAlive);
    assert.equal(ran, true);
    r.remove('a');
    await turn();
  });
});
