// Running programs: always an argument array (never a shell string), each child in its own process
// group so that cancelling kills the whole tree (make's children, QEMU, tar's xz) and not just the top.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Cancels the run: the child's process group gets SIGTERM, then SIGKILL after `killGraceMs`. */
  signal?: AbortSignal;
  /** Kills the run (as cancel does) after this many milliseconds; the result says `timedOut`. */
  timeoutMs?: number;
  killGraceMs?: number;
  /** Text written to the child's standard input, which is closed afterwards. */
  input?: string | Buffer;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Keep at most this many bytes of each stream in the result (the tail). Default 4 MiB. */
  maxBuffer?: number;
}

export interface RunResult {
  command: string;
  args: readonly string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  cancelled: boolean;
  timedOut: boolean;
}

export class ProcessError extends Error {
  constructor(
    message: string,
    readonly result?: RunResult,
  ) {
    super(message);
    this.name = 'ProcessError';
  }
}

export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Throws CancelledError when the signal has fired. */
export function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Runs `command args…` and resolves with its exit status and output whatever the exit code; rejects
 * only when the program cannot be started (ProcessError, e.g. not installed).
 */
export function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const maxBuffer = opts.maxBuffer ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve({ command, args, code: null, signal: null, stdout: '', stderr: '', cancelled: true, timedOut: false });
      return;
    }
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let cancelled = false;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const keep = (acc: string, chunk: string) => {
      const next = acc + chunk;
      return next.length > maxBuffer ? next.slice(next.length - maxBuffer) : next;
    };
    const stop = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), opts.killGraceMs ?? 3000);
      killTimer.unref();
    };
    const onAbort = () => {
      cancelled = true;
      stop();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timeout =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, opts.timeoutMs)
        : undefined;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      stdout = keep(stdout, c);
      opts.onStdout?.(c);
    });
    child.stderr!.on('data', (c: string) => {
      stderr = keep(stderr, c);
      opts.onStderr?.(c);
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
    const finish = () => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (timeout) clearTimeout(timeout);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish();
      const why = err.code === 'ENOENT' ? `${command}: not found` : `${command}: ${err.message}`;
      reject(new ProcessError(why));
    });
    child.on('close', (code, sig) => {
      finish();
      // The group may still hold grandchildren that ignored the first signal: make sure they go too.
      if ((cancelled || timedOut) && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      if (killTimer) clearTimeout(killTimer);
      resolve({ command, args, code, signal: sig, stdout, stderr, cancelled, timedOut });
    });
  });
}

/** Like run(), but rejects with a ProcessError (carrying stderr) unless the program exits 0. */
export async function runChecked(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(command, args, opts);
  if (r.cancelled) throw new CancelledError();
  if (r.timedOut) throw new ProcessError(`${command} timed out`, r);
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-6).join('\n');
    throw new ProcessError(`${[command, ...args.slice(0, 3)].join(' ')}… exited ${r.code ?? r.signal}${tail ? `: ${tail}` : ''}`, r);
  }
  return r;
}

/** The absolute path of a program on PATH, or undefined. */
export async function which(program: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, program);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}
