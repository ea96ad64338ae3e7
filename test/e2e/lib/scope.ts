// A run scope: one fresh temp directory plus a stack of cleanups that is unwound exactly once, on
// every exit path (normal end, failure, global timeout, SIGINT/SIGTERM/SIGHUP). Cleanups registered
// after the scope has closed run at once, so a resource that appears while the run is being torn
// down (a server spawned just as a signal arrives) is not left behind.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUTPUT_DIR } from './paths';

type Cleanup = () => unknown;

export class Scope {
  /** The scope's own temp directory; removed last when the scope closes. */
  readonly dir: string;
  private readonly stack: Array<{ what: string; fn: Cleanup }> = [];
  private readonly late = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;
  private readonly aborter = new AbortController();

  constructor(prefix: string, private readonly log: (line: string) => void = () => {}) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** Aborted when the scope starts closing: long waits should give up on it. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Registers a cleanup (run in reverse order of registration). */
  defer(what: string, fn: Cleanup): void {
    if (this.closing) {
      const p = this.runOne(what, fn);
      this.late.add(p);
      void p.finally(() => this.late.delete(p));
      return;
    }
    this.stack.push({ what, fn });
  }

  /**
   * Unwinds the cleanups (each bounded in time) and removes the temp dir. Idempotent: a later call
   * also waits for cleanups registered after the first one, and removes the dir again if needed.
   */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.aborter.abort(new Error('run scope closed'));
      while (this.stack.length) {
        const { what, fn } = this.stack.pop()!;
        await this.runOne(what, fn);
      }
    })();
    await this.closing;
    await Promise.all([...this.late]);
    const t0 = Date.now();
    removeTree(this.dir, this.log);
    slow(this.log, `removing ${this.dir}`, t0);
  }

  private async runOne(what: string, fn: Cleanup): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const t0 = Date.now();
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('took more than 20 s')), 20_000);
        }),
      ]);
    } catch (err) {
      this.log(`cleanup "${what}" failed: ${errorText(err)}`);
    } finally {
      clearTimeout(timer);
      slow(this.log, `cleanup "${what}"`, t0);
    }
  }
}

/** Logs a cleanup that took long enough to matter for the stage's time. */
function slow(log: (line: string) => void, what: string, t0: number): void {
  const ms = Date.now() - t0;
  if (ms >= 2_000) log(`${what} took ${(ms / 1000).toFixed(1)} s`);
}

function removeTree(dir: string, log: (line: string) => void): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch (err) {
    log(`could not remove ${dir}: ${errorText(err)}`);
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

/** Exit codes for the signals the harness handles (128 + signal number). */
export const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * Calls `onSignal` once for the first SIGINT/SIGTERM/SIGHUP. A second signal while the cleanup is
 * running is ignored (the cleanup is bounded in time), so the process still leaves nothing behind.
 * Returns a function that removes the handlers.
 */
export function onTerminationSignal(onSignal: (signal: keyof typeof SIGNAL_EXIT) => void): () => void {
  let fired = false;
  const handlers = (Object.keys(SIGNAL_EXIT) as Array<keyof typeof SIGNAL_EXIT>).map((signal) => {
    const handler = () => {
      if (fired) return;
      fired = true;
      onSignal(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Removes the screenshots a previous run left in .test-output/e2e/ under this prefix. */
export function removeOldScreenshots(prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(OUTPUT_DIR);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(prefix) && name.endsWith('.png')) rmSync(join(OUTPUT_DIR, name), { force: true });
  }
}
