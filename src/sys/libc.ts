/**
 * The libc entry points Deno does not offer, bound once through FFI.
 *
 * Everything that talks to the kernel directly goes through this module so the
 * rest of ocimon never touches raw symbols. Calls marked `nonblocking` run on
 * Deno's blocking thread pool and return a Promise; the others run inline.
 *
 * @module
 */

const SYMBOLS = {
  getpid: { parameters: [], result: "i32" },
  setsid: { parameters: [], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  getpgid: { parameters: ["i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i64"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  poll: {
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  inotify_init1: { parameters: ["i32"], result: "i32" },
  inotify_add_watch: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "pointer", "pointer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  access: { parameters: ["buffer", "i32"], result: "i32" },
  tcgetattr: { parameters: ["i32", "buffer"], result: "i32" },
  tcsetattr: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: {
    parameters: ["buffer", "i32", "i32"],
    result: "i32",
  },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_addchdir_np: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/**
 * The bound symbols. Prefer the typed wrappers in the sibling modules.
 *
 * Each symbol is bound on first use: binding costs ~0.25 ms a symbol, and
 * binding all of them up front put ~12 ms on the start of every launcher
 * and monitor, which sit on the critical path of `podman run`.
 */
export const libc = {} as Libc;
for (const name of Object.keys(SYMBOLS) as (keyof typeof SYMBOLS)[]) {
  Object.defineProperty(libc, name, {
    configurable: true,
    get() {
      // errno's address is taken before the first call can fail (binding
      // may itself set errno); a process that never calls libc (--version,
      // --help) never loads it through FFI at all.
      errnoPtr ??= bind("__errno_location")();
      const fn = bind(name);
      Object.defineProperty(libc, name, { value: fn });
      return fn;
    },
  });
}

function bind<N extends keyof typeof SYMBOLS>(name: N): Libc[N] {
  return Deno.dlopen("libc.so.6", { [name]: SYMBOLS[name] }).symbols[name] as Libc[N];
}

// errno is thread-local: read it right after the failing inline call, on the
// same (main) thread, before anything else can overwrite it.
let errnoPtr: Deno.PointerValue | undefined;

/** The calling thread's errno (0 before any libc call). */
export function errno(): number {
  return errnoPtr ? new Deno.UnsafePointerView(errnoPtr).getInt32() : 0;
}

/** Human text for an errno value, as strerror(3) gives it. */
export function strerror(code: number): string {
  const p = libc.strerror(code);
  return p ? Deno.UnsafePointerView.getCString(p) : `errno ${code}`;
}

/** A failed system call: names the call, the object and the errno. */
export class SysError extends Error {
  constructor(
    readonly call: string,
    readonly code: number,
    readonly subject?: string,
  ) {
    super(
      `${call}${subject ? ` ${subject}` : ""}: ${strerror(code)} (errno ${code})`,
    );
    this.name = "SysError";
  }
}

/** Throws a SysError when `result` is negative; returns it otherwise. */
export function check<T extends number | bigint>(
  result: T,
  call: string,
  subject?: string,
): T {
  if (result < 0) throw new SysError(call, errno(), subject);
  return result;
}

const encoder = new TextEncoder();

/** A NUL-terminated copy of `s` for passing as `const char *`. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const buf = new Uint8Array(bytes.length + 1);
  buf.set(bytes);
  return buf;
}

/**
 * A NULL-terminated `char *[]` for argv/envp. The returned `keep` array holds
 * the string buffers alive for as long as the vector is in use.
 */
export function cstrVector(
  items: readonly string[],
): { vec: BigUint64Array<ArrayBuffer>; keep: Uint8Array[] } {
  const keep = items.map(cstr);
  const vec = new BigUint64Array(items.length + 1);
  keep.forEach((b, i) => {
    vec[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
  });
  return { vec, keep };
}

// The kernel's numbers that more than one module uses, each written here
// once (Linux, x86-64 and arm64). A number one wrapper alone needs (a prctl
// option, a posix_spawn flag) stays private to that wrapper.

// errno
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const ECHILD = 10;
export const EAGAIN = 11;

// open(2) flags; lseek(2)
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const SEEK_CUR = 1;

// fcntl(2)
export const F_DUPFD_CLOEXEC = 1030;

// signals
export const SIGKILL = 9;
export const SIGSTOP = 19;

// sockets
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
