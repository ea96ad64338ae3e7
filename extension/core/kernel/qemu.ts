// Booting a kernel under QEMU (TCG: no KVM here) with our initramfs, the serial console captured to a
// log file, killed at the timeout, and the log turned into a verdict.
import { createWriteStream } from 'node:fs';
import { CancelledError, run, which } from '../util/process';
import { KernelError } from './build';
import { parseLog, type Verdict } from './verdict';

export interface BootOptions {
  kernel: string;
  initramfs: string;
  /** Where the serial log is written as it comes. */
  logFile: string;
  timeoutMs?: number;
  memoryMb?: number;
  /** Extra kernel command line. */
  append?: string;
  signal?: AbortSignal;
  onOutput?: (line: string) => void;
}

export interface BootResult {
  verdict: Verdict;
  timedOut: boolean;
  durationMs: number;
  /** QEMU's exit code (0 after the guest's `reboot -f` with -no-reboot). */
  code: number | null;
}

export const QEMU = 'qemu-system-x86_64';

/** The argument vector for a boot; pure, for tests and for showing the user what runs. */
export function qemuArgs(opts: Pick<BootOptions, 'kernel' | 'initramfs' | 'memoryMb' | 'append'>): string[] {
  const cmdline = ['console=ttyS0', 'panic=-1', 'oops=panic', opts.append ?? ''].filter(Boolean).join(' ');
  return [
    '-accel', 'tcg',
    '-m', String(opts.memoryMb ?? 256),
    '-smp', '1',
    '-nographic',
    '-no-reboot',
    '-nodefaults',
    '-serial', 'stdio',
    '-kernel', opts.kernel,
    '-initrd', opts.initramfs,
    '-append', cmdline,
  ];
}

export async function boot(opts: BootOptions): Promise<BootResult> {
  if (!(await which(QEMU))) throw new KernelError(`${QEMU} is not installed`, 'apt-get install qemu-system-x86');
  const log = createWriteStream(opts.logFile);
  let partial = '';
  const onChunk = (chunk: string) => {
    log.write(chunk);
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) opts.onOutput?.(l.replace(/\r$/, ''));
  };
  const t0 = Date.now();
  const r = await run(QEMU, qemuArgs(opts), {
    signal: opts.signal,
    timeoutMs: opts.timeoutMs ?? 180_000,
    killGraceMs: 1000,
    onStdout: onChunk,
    onStderr: onChunk,
    maxBuffer: 32 * 1024 * 1024,
  });
  if (partial) opts.onOutput?.(partial);
  await new Promise<void>((res) => log.end(res));
  if (r.cancelled) throw new CancelledError();
  const verdict = parseLog(`${r.stdout}\n${r.stderr}`, { timedOut: r.timedOut });
  return { verdict, timedOut: r.timedOut, durationMs: Date.now() - t0, code: r.code };
}
