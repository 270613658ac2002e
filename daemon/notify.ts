// sd_notify(3): READY=1, STATUS=…, STOPPING=1 as a datagram to $NOTIFY_SOCKET, sent by the addon. A no-op when
// not started by systemd. The variable is removed from the environment so no child ever inherits it.
import * as native from '../native/addon';

const notifySocket = process.env['NOTIFY_SOCKET'];
delete process.env['NOTIFY_SOCKET'];

export function sdNotify(state: string): boolean {
  if (notifySocket === undefined || notifySocket === '') return false;
  native.sendDatagram(notifySocket, Buffer.from(state, 'utf8'));
  return true;
}
