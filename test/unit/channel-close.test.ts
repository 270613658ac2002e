// A channel closed by its owner drops the packets it did not read, so that the peer sees an end of file, not
// ECONNRESET (the kernel resets the peer of a unix socket closed with packets unread): a version 1 client that
// sends after its final message, say, sees jaid close the connection.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import * as native from '../../native/addon';
import { PacketChannel, closeQuietly } from '../../proto/channel';

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

describe('PacketChannel close', () => {
  it('drops what the peer sent unread (closing fds it carried); the peer reads an end of file', () => {
    const before = openFds();
    const [mine, theirs] = native.seqpacketPair();
    const carried = fs.openSync('/dev/null', 'r');
    native.sendMessage(theirs, Buffer.from('one'), []);
    native.sendMessage(theirs, Buffer.from('two'), [carried]);
    closeQuietly(carried);
    const ends: string[] = [];
    const channel = new PacketChannel(mine, {
      onPacket: () => ends.push('packet'),
      onEnd: (end) => ends.push(end.kind),
    });
    channel.close();
    assert.deepEqual(ends, ['closed'], 'nothing unread is delivered');
    const got = native.recvMessage(theirs, 4096, 4);
    assert.equal(got?.eof, true, 'an end of file, not ECONNRESET');
    closeQuietly(theirs);
    assert.equal(openFds(), before, 'the fd in the dropped packet is closed');
  });
});
