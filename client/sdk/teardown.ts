// `jai -u`: releasing the user's overlays and private /tmp, as a request on a connection.
import { NoticeKind, encodeClientMessage, type DaemonMessage } from '../../proto/client-codec';
import { closeQuietly } from '../../proto/channel';
import { daemonError, type Exchange, type Verdict } from './connection';
import { JaiClientError } from './errors';
import { actAsUser, modeValue, type Mode, type NoticeHandler } from './request';

export interface TeardownOptions {
  /** Default: every jail of the user. */
  jail?: string;
  mode?: Mode;
  storage?: string;
  configDir?: string;
  socketPath?: string;
  onNotice?: NoticeHandler;
}

export function teardownPacket(options: TeardownOptions): Uint8Array {
  return encodeClientMessage({
    teardown: {
      jail: options.jail ?? '',
      mode: modeValue(options.mode),
      storage: options.storage ?? '',
      configDir: options.configDir ?? '',
      actAsUser: actAsUser(),
    },
  });
}

/** Resolves with TornDown's exit code (0 released, 1 something in use), or 'stale' (send it again elsewhere). */
export class TeardownExchange implements Exchange {
  readonly result: Promise<number | 'stale'>;
  private settle!: { resolve: (r: number | 'stale') => void; reject: (e: Error) => void };

  constructor(
    private readonly onNotice: NoticeHandler | undefined,
    private readonly mayRetry: boolean,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  onMessage(m: DaemonMessage, fds: number[]): Verdict {
    if (fds.length > 0) {
      fds.forEach(closeQuietly);
      this.settle.reject(new JaiClientError('DAEMON_PROTOCOL', 'unexpected fds from jaid'));
      return 'broken';
    }
    switch (m.body) {
      case 'notice':
        this.onNotice?.(
          m.notice?.kind === NoticeKind.NOTICE_MASKS_IGNORED ? 'masks-ignored' : 'info',
          m.notice?.message ?? '',
        );
        return 'more';
      case 'tornDown':
        this.settle.resolve(m.tornDown?.exitCode ?? 1);
        return 'final';
      case 'error': {
        const error = daemonError(m.error ?? {});
        if (this.mayRetry && error.code === 'PROTO_UNEXPECTED') this.settle.resolve('stale');
        else this.settle.reject(error);
        return 'final';
      }
      default:
        this.settle.reject(new JaiClientError('DAEMON_PROTOCOL', 'unexpected reply from jaid'));
        return 'broken';
    }
  }

  onLost(error: JaiClientError, unanswered: boolean): void {
    if (unanswered && this.mayRetry) this.settle.resolve('stale');
    else this.settle.reject(error);
  }
}
