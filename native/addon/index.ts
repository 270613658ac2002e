// The one loader of native/build/jai_addon.node. Nothing else requires the addon:
// import from here. Every argument is validated here before it crosses into C
// (and again in C, which throws TypeError/RangeError rather than crash).
// See docs/addon.md.
import { join } from 'node:path';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}
export interface Received {
  data: Buffer;
  fds: number[];
  eof: boolean;
  truncated: boolean;
}
export interface Winsize {
  rows: number;
  cols: number;
}
export interface Passwd {
  name: string;
  uid: number;
  gid: number;
  dir: string;
  shell: string;
  /** The comment field (GECOS): identifies the untrusted `jai` account. */
  gecos: string;
}
export interface Group {
  name: string;
  gid: number;
}
/** A child from spawn(): its pid (for logs and /proc) and a CLOEXEC pidfd (for signals and reaping). */
export interface Spawned {
  pid: number;
  pidfd: number;
}
/** How a reaped child ended: exactly one of the two is a number. */
export interface ChildExit {
  code: number | null;
  signal: number | null;
}
export type PollEvents = 'r' | 'w' | 'rw';
/** The native relay's handle (an external): only the outputRelay functions use it. */
declare const outputRelayHandle: unique symbol;
interface OutputRelayHandle {
  readonly [outputRelayHandle]: never;
}
/** The thread that copies a PTY master to the user's terminal (startOutputRelay). */
export interface OutputRelay {
  /** Returns once the thread is parked between writes; it neither reads nor writes until resume(). */
  pause(): void;
  resume(): void;
  /** The thread exits and is joined: nothing is written to `out` after this returns. Idempotent. */
  stop(): void;
}
export type WatchCallback = (err: Error | null, readable: boolean, writable: boolean) => void;
export interface Watcher {
  /** (Re)arm polling; the callback runs on readiness, with an Error on POLLERR (polling then stops). */
  start(events: PollEvents): void;
  stop(): void;
  /** Idempotent; no callbacks after it. Does not close the fd. */
  close(): void;
  /** uv_ref / uv_unref on the poll handle (an unref'd watcher does not keep the process alive). */
  ref(): void;
  unref(): void;
}

/** An error from a syscall in the addon, shaped like Node's own (code 'ENOENT', errno -2, syscall 'connect'). */
export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
}

export function isNativeError(e: unknown): e is NativeError {
  return (
    e instanceof Error &&
    'code' in e &&
    typeof e.code === 'string' &&
    'errno' in e &&
    typeof e.errno === 'number' &&
    'syscall' in e &&
    typeof e.syscall === 'string' &&
    (!('path' in e) || e.path === undefined || typeof e.path === 'string')
  );
}

/** Most fds one message may carry (the kernel's SCM_MAX_FD). */
export const MAX_FDS_PER_MESSAGE = 253;
/** Largest message sendMessage accepts and recvMessage may be asked for (the kernel's limit is lower). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const MAX_FD = 0x7fffffff;
/** Limits of spawn() (native/addon/spawn.h). */
const MAX_SPAWN_FDS = 256;
const MAX_SPAWN_ARGS = 16;
const MAX_SPAWN_ARG_BYTES = 1023;
const MAX_PATH_BYTES = 4095;
const MAX_SIGNAL = 64;
const POLL_EVENTS: ReadonlySet<string> = new Set<PollEvents>(['r', 'w', 'rw']);
const MAX_SUN_PATH_BYTES = 107; // sizeof(sun_path) - 1
const MAX_NAME_BYTES = 255;
const MAX_ID = 0xffffffff;

interface Binding {
  seqpacketListen(path: string, mode: number, backlog: number): number;
  seqpacketAdopt(fd: number): void;
  seqpacketAccept(listenFd: number): number | null;
  seqpacketConnect(path: string, waitMs: number): number;
  seqpacketPair(): [number, number];
  sendMessage(fd: number, data: Uint8Array, fds: readonly number[]): boolean;
  recvMessage(fd: number, maxBytes: number, maxFds: number): Received | null;
  sendDatagram(path: string, data: Uint8Array): void;
  peerCred(fd: number): PeerCred;
  peerPidfd(fd: number): number | null;
  watch(fd: number, callback: WatchCallback): Watcher;
  getWinsize(fd: number): Winsize;
  setWinsize(fd: number, size: Winsize): void;
  closeFd(fd: number): void;
  pipe(): [number, number];
  getpwuid(uid: number): Passwd | null;
  getpwnam(name: string): Passwd | null;
  getgrouplist(name: string, gid: number): number[];
  getgrnam(name: string): Group | null;
  getgrgid(gid: number): Group | null;
  umask(): number;
  stopSelf(signo: number): number;
  exitNow(status: number): never;
  getTermios(fd: number): Buffer;
  setTermios(fd: number, termios: Uint8Array): void;
  makeRaw(fd: number): void;
  ptyRead(master: number): Buffer | null;
  spawn(execFd: number, argv: readonly string[], fds: readonly number[]): Spawned;
  openExecutable(path: string): number;
  pidfdWait(pidfd: number): ChildExit | null;
  pidfdSignal(pidfd: number, signo: number): boolean;
  sealedMemfd(data: Uint8Array): number;
  outputRelayStart(master: number, out: number, onEnd: (err: NativeError | null) => void): OutputRelayHandle;
  outputRelayPause(relay: OutputRelayHandle): void;
  outputRelayResume(relay: OutputRelayHandle): void;
  outputRelayStop(relay: OutputRelayHandle): void;
  MAX_FDS: number;
  MAX_BYTES: number;
}

const FUNCTIONS = [
  'seqpacketListen',
  'seqpacketAdopt',
  'seqpacketAccept',
  'seqpacketConnect',
  'seqpacketPair',
  'sendMessage',
  'recvMessage',
  'sendDatagram',
  'peerCred',
  'peerPidfd',
  'watch',
  'getWinsize',
  'setWinsize',
  'closeFd',
  'pipe',
  'getpwuid',
  'getpwnam',
  'getgrouplist',
  'getgrnam',
  'getgrgid',
  'umask',
  'stopSelf',
  'exitNow',
  'getTermios',
  'setTermios',
  'makeRaw',
  'ptyRead',
  'spawn',
  'openExecutable',
  'pidfdWait',
  'pidfdSignal',
  'sealedMemfd',
  'outputRelayStart',
  'outputRelayPause',
  'outputRelayResume',
  'outputRelayStop',
] as const satisfies readonly (keyof Binding)[];

// Compiled to dist/native/addon/index.js; the addon is built into native/build/.
const ADDON_PATH = join(__dirname, '../../../native/build/jai_addon.node');

function load(): Binding {
  // The one place the .node is loaded. process.dlopen is what require() does for a .node file, without resolving
  // the path first (createRequire, stat, realpath, package scope: ~0.4 ms of every `jai` start).
  const addon: { exports: unknown } = { exports: {} };
  process.dlopen(addon, ADDON_PATH);
  const loaded = addon.exports;
  if (typeof loaded !== 'object' || loaded === null) throw new Error(`${ADDON_PATH}: not an addon`);
  const exported = loaded as Record<string, unknown>;
  const missing = FUNCTIONS.filter((name) => typeof exported[name] !== 'function');
  // A stale build would otherwise fail later with "x is not a function".
  if (missing.length > 0) throw new Error(`${ADDON_PATH} is stale: missing ${missing.join(', ')} (run make -C native)`);
  if (exported['MAX_FDS'] !== MAX_FDS_PER_MESSAGE || exported['MAX_BYTES'] !== MAX_MESSAGE_BYTES) {
    throw new Error(`${ADDON_PATH} is stale: its limits differ from index.ts (run make -C native)`);
  }
  return loaded as Binding;
}

const native = load();

// --- argument checks (Node's codes: ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE) ---

function argError<E extends TypeError | RangeError>(error: E, code: string): E {
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return error;
}

function checkInteger(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') {
    throw argError(new TypeError(`The "${name}" argument must be of type number`), 'ERR_INVALID_ARG_TYPE');
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw argError(
      new RangeError(
        `The value of "${name}" is out of range. It must be an integer >= ${min} and <= ${max}. Received ${value}`,
      ),
      'ERR_OUT_OF_RANGE',
    );
  }
}

function checkFd(value: unknown, name = 'fd'): asserts value is number {
  checkInteger(value, name, 0, MAX_FD);
}

function checkString(value: unknown, name: string, maxBytes: number): asserts value is string {
  if (typeof value !== 'string') {
    throw argError(new TypeError(`The "${name}" argument must be of type string`), 'ERR_INVALID_ARG_TYPE');
  }
  if (value.includes('\0')) {
    throw argError(new TypeError(`The "${name}" argument must not contain NUL bytes`), 'ERR_INVALID_ARG_VALUE');
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes === 0 || bytes > maxBytes) {
    throw argError(
      new RangeError(`The "${name}" argument must be 1 to ${maxBytes} bytes long. Received ${bytes} bytes`),
      'ERR_OUT_OF_RANGE',
    );
  }
}

function checkFdList(value: unknown, name: string, max = MAX_FDS_PER_MESSAGE): asserts value is readonly number[] {
  if (!Array.isArray(value)) {
    throw argError(
      new TypeError(`The "${name}" argument must be an array of file descriptors`),
      'ERR_INVALID_ARG_TYPE',
    );
  }
  if (value.length > max) {
    throw argError(
      new RangeError(`The "${name}" argument must hold at most ${max} fds. Received ${value.length}`),
      'ERR_OUT_OF_RANGE',
    );
  }
  for (const fd of value as readonly unknown[]) checkFd(fd, name);
}

function checkBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw argError(new TypeError(`The "${name}" argument must be a Uint8Array or Buffer`), 'ERR_INVALID_ARG_TYPE');
  }
  if (value.byteLength > MAX_MESSAGE_BYTES) {
    throw argError(
      new RangeError(`The "${name}" argument must be at most ${MAX_MESSAGE_BYTES} bytes. Received ${value.byteLength}`),
      'ERR_OUT_OF_RANGE',
    );
  }
}

// --- sockets ---

/** A listening SOCK_SEQPACKET socket bound at path, chmod'ed to mode. Does not unlink a stale path. */
export function seqpacketListen(path: string, mode: number, backlog: number): number {
  checkString(path, 'path', MAX_SUN_PATH_BYTES);
  checkInteger(mode, 'mode', 0, 0o7777);
  checkInteger(backlog, 'backlog', 0, MAX_FD);
  return native.seqpacketListen(path, mode, backlog);
}

/** Accept an inherited fd (socket activation) only if it is a listening AF_UNIX SOCK_SEQPACKET socket. */
export function seqpacketAdopt(fd: number): void {
  checkFd(fd);
  native.seqpacketAdopt(fd);
}

/** A new connection (CLOEXEC, non-blocking), or null when none is pending. */
export function seqpacketAccept(listenFd: number): number | null {
  checkFd(listenFd, 'listenFd');
  return native.seqpacketAccept(listenFd);
}

/**
 * A connection (CLOEXEC, non-blocking). When the listener's backlog is full: with waitMs 0 an EAGAIN error at once,
 * else the call blocks in the kernel, woken at each accept, for at most waitMs (then EAGAIN).
 */
export function seqpacketConnect(path: string, waitMs = 0): number {
  checkString(path, 'path', MAX_SUN_PATH_BYTES);
  checkInteger(waitMs, 'waitMs', 0, 60_000);
  return native.seqpacketConnect(path, waitMs);
}

/** [ours (non-blocking), the child's (blocking)], both CLOEXEC. */
export function seqpacketPair(): [number, number] {
  return native.seqpacketPair();
}

/** One message with fds attached; false when the socket is full (wait for writable). */
export function sendMessage(fd: number, data: Uint8Array, fds: readonly number[]): boolean {
  checkFd(fd);
  checkBytes(data, 'data');
  checkFdList(fds, 'fds');
  return native.sendMessage(fd, data, fds);
}

/**
 * One message, or null when none is waiting. Fds beyond maxFds (or any unexpected control data) are closed
 * and an Error with code 'EJAI_FDS' is thrown.
 */
export function recvMessage(fd: number, maxBytes: number, maxFds: number): Received | null {
  checkFd(fd);
  checkInteger(maxBytes, 'maxBytes', 0, MAX_MESSAGE_BYTES);
  checkInteger(maxFds, 'maxFds', 0, MAX_FDS_PER_MESSAGE);
  return native.recvMessage(fd, maxBytes, maxFds);
}

/**
 * One datagram to an AF_UNIX SOCK_DGRAM socket at path ('@name' = abstract namespace), from a fresh unbound
 * socket; never blocks (a full receiver is EAGAIN). For sd_notify(3): $NOTIFY_SOCKET takes either form.
 */
export function sendDatagram(path: string, data: Uint8Array): void {
  checkString(path, 'path', MAX_SUN_PATH_BYTES);
  if (!path.startsWith('/') && !path.startsWith('@')) {
    throw argError(new TypeError(`The "path" argument must start with '/' or '@'`), 'ERR_INVALID_ARG_VALUE');
  }
  checkBytes(data, 'data');
  native.sendDatagram(path, data);
}

export function peerCred(fd: number): PeerCred {
  checkFd(fd);
  return native.peerCred(fd);
}

/** A CLOEXEC pidfd for the peer, or null where the kernel lacks SO_PEERPIDFD. */
export function peerPidfd(fd: number): number | null {
  checkFd(fd);
  return native.peerPidfd(fd);
}

// --- readiness ---

/** A stopped watcher on fd; start() it. A started watcher stays alive until stopped or closed. */
export function watch(fd: number, callback: WatchCallback): Watcher {
  checkFd(fd);
  if (typeof callback !== 'function') {
    throw argError(new TypeError('The "callback" argument must be of type function'), 'ERR_INVALID_ARG_TYPE');
  }
  return new CheckedWatcher(native.watch(fd, callback));
}

// Checks start()'s argument before the native method sees it. Lifetime is the native object's: it is kept alive
// while started, and collected (closing the poll) once stopped and unreachable, with or without this wrapper.
class CheckedWatcher implements Watcher {
  readonly #native: Watcher;
  constructor(nativeWatcher: Watcher) {
    this.#native = nativeWatcher;
  }
  start(events: PollEvents): void {
    if (!POLL_EVENTS.has(events)) {
      throw argError(new TypeError(`The "events" argument must be 'r', 'w' or 'rw'`), 'ERR_INVALID_ARG_VALUE');
    }
    this.#native.start(events);
  }
  stop(): void {
    this.#native.stop();
  }
  close(): void {
    this.#native.close();
  }
  ref(): void {
    this.#native.ref();
  }
  unref(): void {
    this.#native.unref();
  }
}

// --- terminals ---

export function getWinsize(fd: number): Winsize {
  checkFd(fd);
  return native.getWinsize(fd);
}

export function setWinsize(fd: number, size: Winsize): void {
  checkFd(fd);
  checkWinsize(size);
  native.setWinsize(fd, { rows: size.rows, cols: size.cols });
}

function checkWinsize(value: unknown): asserts value is Winsize {
  if (typeof value !== 'object' || value === null || !('rows' in value) || !('cols' in value)) {
    throw argError(new TypeError('The "size" argument must be an object {rows, cols}'), 'ERR_INVALID_ARG_TYPE');
  }
  checkInteger(value.rows, 'size.rows', 0, 0xffff);
  checkInteger(value.cols, 'size.cols', 0, 0xffff);
}

// --- process ---

/** close(2) for fds Node does not own (received fds, socket fds from this module). EINTR counts as closed. */
export function closeFd(fd: number): void {
  checkFd(fd);
  native.closeFd(fd);
}

/**
 * pipe(2): [read end, write end], both CLOEXEC and blocking. For stdio the SDK hands one end to a jailed program
 * (STDIO_PASS) and wraps the other in a Node stream (net.Socket makes its own end non-blocking).
 */
export function pipe(): [number, number] {
  return native.pipe();
}

/**
 * Stops this process with `signo` (SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU) as a stopped jailed job did, so that the
 * user's shell sees the job stop; SIGSTOP instead when the process group is orphaned (the kernel would discard the
 * others). Returns the signal used, once the process has been continued (`fg`).
 */
export function stopSelf(signo: number): number {
  checkInteger(signo, 'signo', 19, 22);
  return native.stopSelf(signo);
}

/**
 * _exit(2) with `status` (0-255): the process ends at once, without what process.exit() does after its 'exit'
 * listeners (joining Node's worker threads, destructors: ~1 ms). Only for a process whose output is written.
 */
export function exitNow(status: number): never {
  checkInteger(status, 'status', 0, 255);
  return native.exitNow(status);
}

/** The terminal's settings (opaque bytes of struct termios), to be given back to setTermios. */
export function getTermios(fd: number): Buffer {
  checkFd(fd);
  return native.getTermios(fd);
}

export function setTermios(fd: number, termios: Uint8Array): void {
  checkFd(fd);
  native.setTermios(fd, termios);
}

/** cfmakeraw on the terminal: no echo, no line editing, no signals, and no output processing (byte-exact). */
export function makeRaw(fd: number): void {
  checkFd(fd);
  native.makeRaw(fd);
}

/**
 * What a PTY master has to read now (the master is made non-blocking), at most 64 KiB: an empty Buffer when there is
 * nothing yet, null at the end (no process holds the slave any more).
 */
export function ptyRead(master: number): Buffer | null {
  checkFd(master, 'master');
  return native.ptyRead(master);
}

// --- children (native/addon/spawn.c) ---

/**
 * Starts `execFd` (from openExecutable) with `argv` (argv[0] included), an empty environment, `fds` as its fds
 * 0..n-1 in order, every other fd closed, every signal at its default disposition and none blocked. The child is
 * a clone(CLONE_VM|CLONE_VFORK) of this process: nothing is copied, and this call returns once it has exec'd. An
 * exec or fd failure throws (NativeError: syscall 'execveat', 'fcntl(F_DUPFD_CLOEXEC)'…; the child is reaped).
 * Only pidfdWait reaps the child (libuv waits for its own children only): watch the pidfd for readable, then
 * pidfdWait, then closeFd it.
 */
export function spawn(execFd: number, argv: readonly string[], fds: readonly number[]): Spawned {
  checkFd(execFd, 'execFd');
  if (!Array.isArray(argv) || argv.length < 1 || argv.length > MAX_SPAWN_ARGS) {
    throw argError(
      new TypeError(`The "argv" argument must be an array of 1 to ${MAX_SPAWN_ARGS} strings`),
      'ERR_INVALID_ARG_TYPE',
    );
  }
  for (const arg of argv as readonly unknown[]) checkString(arg, 'argv', MAX_SPAWN_ARG_BYTES);
  checkFdList(fds, 'fds', MAX_SPAWN_FDS);
  return native.spawn(execFd, argv, fds);
}

/**
 * An O_RDONLY|O_CLOEXEC fd of the file at `path`, for spawn(): the very inode opened here is what every spawn runs.
 * It must be an ELF binary: a script cannot be exec'd from a close-on-exec fd (execveat fails with ENOENT).
 */
export function openExecutable(path: string): number {
  checkString(path, 'path', MAX_PATH_BYTES);
  return native.openExecutable(path);
}

/** null while the child runs; once it has exited, how (and it is reaped: the pidfd is then only to be closed). */
export function pidfdWait(pidfd: number): ChildExit | null {
  checkFd(pidfd, 'pidfd');
  return native.pidfdWait(pidfd);
}

/** pidfd_send_signal: false when the child has already exited (never another process that reused its pid). */
export function pidfdSignal(pidfd: number, signo: number): boolean {
  checkFd(pidfd, 'pidfd');
  checkInteger(signo, 'signo', 1, MAX_SIGNAL);
  return native.pidfdSignal(pidfd, signo);
}

/**
 * A CLOEXEC memfd holding `data` at offset 0, sealed (no write, grow, shrink or new seal): a child reads it to EOF
 * as it would a pipe, and the writer never blocks whatever its size.
 */
export function sealedMemfd(data: Uint8Array): number {
  checkBytes(data, 'data');
  return native.sealedMemfd(data);
}

/**
 * Starts a thread that copies what the PTY master has to read to `out` (the master is made non-blocking; writes to
 * `out` wait as a terminal write does; once `out` fails, the rest is read and dropped). `onEnd` runs on the main
 * thread when the master reports the end (null: no process holds the slave any more) or a read fails; it may still
 * run after stop(). The fds stay open: stop() the relay before closing them.
 */
export function startOutputRelay(master: number, out: number, onEnd: (err: NativeError | null) => void): OutputRelay {
  checkFd(master, 'master');
  checkFd(out, 'out');
  if (typeof onEnd !== 'function') {
    throw argError(new TypeError('The "onEnd" argument must be of type function'), 'ERR_INVALID_ARG_TYPE');
  }
  const handle = native.outputRelayStart(master, out, onEnd);
  return {
    pause: () => native.outputRelayPause(handle),
    resume: () => native.outputRelayResume(handle),
    stop: () => native.outputRelayStop(handle),
  };
}

/** The current umask, read without changing it. */
export function umask(): number {
  return native.umask();
}

// --- users and groups (NSS) ---

export function getpwuid(uid: number): Passwd | null {
  checkInteger(uid, 'uid', 0, MAX_ID);
  return native.getpwuid(uid);
}

export function getpwnam(name: string): Passwd | null {
  checkString(name, 'name', MAX_NAME_BYTES);
  return native.getpwnam(name);
}

/** Every group of the user, gid included. */
export function getgrouplist(name: string, gid: number): number[] {
  checkString(name, 'name', MAX_NAME_BYTES);
  checkInteger(gid, 'gid', 0, MAX_ID);
  return native.getgrouplist(name, gid);
}

export function getgrnam(name: string): Group | null {
  checkString(name, 'name', MAX_NAME_BYTES);
  return native.getgrnam(name);
}

export function getgrgid(gid: number): Group | null {
  checkInteger(gid, 'gid', 0, MAX_ID);
  return native.getgrgid(gid);
}
