// The kernel test suites: compile (prepare + the objects the series touches), build (bzImage), boot
// (bzImage + initramfs under QEMU, verdict from the serial log), bisect (build after each patch on a
// separate worktree, so the user's checkout is never touched), and all.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { Git } from '../git/git';
import { cacheRoot } from '../util/assets';
import { BUNDLED_SERIES, readSeriesDir, type PatchFile } from '../series/patchfile';
import { CancelledError, throwIfCancelled } from '../util/process';
import { configure, DEFAULT_FRAGMENT, defaultBuildDir, enabledObjects, KernelError, kernelTreeProblem, make, requireTools, type BuildContext, type MakeResult } from './build';
import { formatDiagnostic, toCheckoutPath, warningKey, type CompilerDiagnostic } from './diagnostics';
import { buildInitramfs } from './initramfs';
import { boot } from './qemu';
import { troubleSource, type KunitTotals, type Status, type TestResult } from './verdict';

export const SUITES = ['compile', 'build', 'boot', 'bisect', 'all'] as const;
export type SuiteName = (typeof SUITES)[number];

export interface RunnerResult {
  id: string;
  name: string;
  kind: 'build' | 'guest' | 'kunit' | 'kernel' | 'boot';
  status: Status;
  message?: string;
  excerpt?: string[];
  line?: number;
  durationMs?: number;
  /**
   * Where a failure points: the first error (or new warning) of a build, the source line a kernel
   * BUG/WARNING names, else the result's line in the serial log. `file` is relative to the checkout
   * when it is inside it, absolute otherwise (the serial log).
   */
  location?: SourceLocation;
}

export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

export interface RunnerOptions {
  kernelDir: string;
  suite: SuiteName;
  buildDir?: string;
  /** QEMU timeout (ms). Default 180 s. */
  timeoutMs?: number;
  fragment?: string;
  /** The series for `compile` (which objects) and `bisect`; default the bundled patches/. */
  seriesDir?: string;
  /** The revision the series applies to, for `bisect`; default the `netmem-base` tag, else HEAD. */
  base?: string;
  /** Guest programs and /init; default kernel-ref/guest. */
  guestDir?: string;
  jobs?: number;
  signal?: AbortSignal;
  /** Every line of make and QEMU output. */
  onOutput?: (line: string) => void;
  onProgress?: (message: string) => void;
  /** Each result as soon as it is known. */
  onResult?: (result: RunnerResult) => void;
}

export interface RunnerReport {
  suite: SuiteName;
  ok: boolean;
  results: RunnerResult[];
  diagnostics: CompilerDiagnostic[];
  counts: Record<Status, number>;
  durationMs: number;
  kunitTotals?: KunitTotals;
  /** The serial log of the boot, when there was one. */
  bootLog?: string;
}

class Run {
  readonly results: RunnerResult[] = [];
  readonly diagnostics: CompilerDiagnostic[] = [];
  kunitTotals?: KunitTotals;
  bootLog?: string;
  constructor(readonly opts: RunnerOptions) {}

  add(r: RunnerResult): void {
    this.results.push(r);
    this.opts.onResult?.(r);
  }

  /** A build step as a result: failed on a non-zero make, with the errors (or the tail) as message. */
  addBuild(id: string, name: string, m: MakeResult, extra: { newWarnings?: CompilerDiagnostic[] } = {}): boolean {
    this.diagnostics.push(...m.diagnostics);
    const errors = m.diagnostics.filter((d) => d.severity === 'error');
    const newWarnings = extra.newWarnings ?? [];
    const ok = m.ok && newWarnings.length === 0;
    let message: string | undefined;
    if (!m.ok) message = errors.length ? errors.slice(0, 10).map(formatDiagnostic).join('\n') : m.timedOut ? 'make timed out' : `make exited ${m.code}`;
    else if (newWarnings.length) message = `new warnings:\n${newWarnings.slice(0, 10).map(formatDiagnostic).join('\n')}`;
    const culprit = ok ? undefined : [...errors, ...newWarnings].find((d) => d.file && d.line > 0);
    const location = culprit && { file: culprit.file, line: culprit.line, column: culprit.column || undefined };
    this.add({ id, name, kind: 'build', status: ok ? 'pass' : 'fail', message, excerpt: ok ? undefined : m.tail, durationMs: m.durationMs, location });
    return m.ok;
  }

  ctx(srcDir: string, buildDir: string): BuildContext {
    const o = this.opts;
    return { srcDir, buildDir, fragment: o.fragment ?? DEFAULT_FRAGMENT(), jobs: o.jobs, signal: o.signal, onOutput: o.onOutput, onProgress: o.onProgress };
  }
}

async function loadSeries(opts: RunnerOptions): Promise<PatchFile[]> {
  return readSeriesDir(opts.seriesDir ?? BUNDLED_SERIES());
}

async function compileSuite(run: Run, ctx: BuildContext): Promise<void> {
  await configure(ctx);
  run.opts.onProgress?.('compile: make prepare');
  if (!run.addBuild('compile/prepare', 'compile: make prepare', await make(ctx, ['prepare']))) return;
  const series = await loadSeries(run.opts).catch(() => [] as PatchFile[]);
  const sources = [...new Set(series.flatMap((p) => p.files))].filter((f) => f.endsWith('.c') && existsSync(join(ctx.srcDir, f)));
  if (sources.length === 0) sources.push('net/core/skbuff.c');
  for (const object of await enabledObjects(ctx, sources)) {
    throwIfCancelled(ctx.signal);
    run.opts.onProgress?.(`compile: ${object}`);
    run.addBuild(`compile/${object}`, `compile: ${object}`, await make(ctx, [object]));
  }
}

async function buildSuite(run: Run, ctx: BuildContext): Promise<boolean> {
  await configure(ctx);
  run.opts.onProgress?.('build: make bzImage');
  return run.addBuild('build/bzImage', 'build: bzImage', await make(ctx, ['bzImage']));
}

async function bootSuite(run: Run, ctx: BuildContext): Promise<void> {
  if (!(await buildSuite(run, ctx))) return;
  run.opts.onProgress?.('boot: initramfs');
  const initramfs = join(ctx.buildDir, 'netmem-initramfs.cpio.gz');
  await buildInitramfs({ buildDir: ctx.buildDir, out: initramfs, guestDir: run.opts.guestDir, signal: ctx.signal, onProgress: run.opts.onProgress });
  run.opts.onProgress?.('boot: QEMU');
  const logFile = join(ctx.buildDir, 'netmem-boot.log');
  const b = await boot({
    kernel: join(ctx.buildDir, 'arch/x86/boot/bzImage'),
    initramfs,
    logFile,
    timeoutMs: run.opts.timeoutMs,
    signal: ctx.signal,
    onOutput: run.opts.onOutput,
  });
  run.bootLog = logFile;
  run.kunitTotals = b.verdict.kunitTotals;
  for (const r of b.verdict.results) {
    run.add({ ...r, location: r.status === 'fail' ? failureLocation(r, ctx, logFile) : undefined });
  }
}

/**
 * The source line a kernel trouble names, as a checkout path (the kernel prints paths relative to
 * the source tree, or relative to the build directory in some builds), else the serial log's line.
 */
export function failureLocation(r: TestResult, ctx: Pick<BuildContext, 'srcDir' | 'buildDir'>, logFile: string): SourceLocation {
  const src = r.kind === 'kernel' && r.message ? troubleSource(r.message) : undefined;
  if (src) {
    const file = checkoutFile(src.file, ctx);
    if (file) return { file, line: src.line };
  }
  return { file: logFile, line: r.line ?? 1 };
}

/** A path the kernel printed, as an existing file relative to the checkout, or undefined. */
function checkoutFile(printed: string, ctx: Pick<BuildContext, 'srcDir' | 'buildDir'>): string | undefined {
  const direct = toCheckoutPath(printed, { srcDir: ctx.srcDir, buildDir: ctx.buildDir });
  if (!isAbsolute(direct) && existsSync(join(ctx.srcDir, direct))) return direct;
  // `../../linux/net/…` from another layout: the longest tail that exists in this checkout.
  const parts = printed.split('/').filter((p) => p && p !== '.' && p !== '..');
  for (let i = 0; i < parts.length; i++) {
    const tail = parts.slice(i).join('/');
    if (existsSync(join(ctx.srcDir, tail))) return tail;
  }
  return undefined;
}

/**
 * A worktree outside the checkout, kept between runs so that each run rebuilds only what changed. It
 * is laid out like a checkout and its default build directory (`NAME` beside `build/ID`), so ccache
 * hits across the two.
 */
/** Where bisect keeps its worktree and build for a checkout. */
export function bisectRoot(kernelDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'bisect', createHash('sha256').update(resolve(kernelDir)).digest('hex').slice(0, 12));
}

async function bisectWorktree(git: Git, kernelDir: string, base: string): Promise<{ dir: string; buildDir: string }> {
  const root = bisectRoot(kernelDir);
  const id = basename(root);
  const dir = join(root, basename(resolve(kernelDir)));
  const buildDir = join(root, 'build', id);
  await mkdir(root, { recursive: true });
  await git.tryRun(['worktree', 'prune']);
  const wt = new Git(dir);
  if (existsSync(join(dir, '.git')) && (await wt.isRepository())) {
    await wt.tryRun(['am', '--abort']);
    await wt.run(['checkout', '-q', '--detach', '-f', base]);
    await wt.run(['clean', '-q', '-fdx']);
  } else {
    await rm(dir, { recursive: true, force: true });
    await git.run(['worktree', 'add', '-q', '--detach', dir, base]);
  }
  return { dir, buildDir };
}

async function bisectSuite(run: Run): Promise<void> {
  const opts = run.opts;
  const series = await loadSeries(opts);
  const git = new Git(opts.kernelDir);
  const base = opts.base ?? ((await git.resolve('refs/tags/netmem-base')) ? 'netmem-base' : 'HEAD');
  const baseId = await git.resolve(base);
  if (!baseId) throw new KernelError(`bisect: no revision ${base} in ${opts.kernelDir}`);
  opts.onProgress?.(`bisect: worktree at ${baseId.slice(0, 12)}`);
  const { dir, buildDir } = await bisectWorktree(git, opts.kernelDir, baseId);
  const ctx = run.ctx(dir, buildDir);
  const wt = new Git(dir, {
    env: { GIT_COMMITTER_NAME: 'netmem bisect', GIT_COMMITTER_EMAIL: 'bisect@netmem-series.invalid' },
  });
  await configure(ctx);
  opts.onProgress?.('bisect: building the base');
  const baseBuild = await make(ctx, ['bzImage']);
  const seen = new Set(baseBuild.diagnostics.filter((d) => d.severity === 'warning').map(warningKey));
  if (!run.addBuild('bisect/0', `bisect: [0/${series.length}] base ${baseId.slice(0, 12)}`, baseBuild)) return;
  for (const [i, patch] of series.entries()) {
    throwIfCancelled(opts.signal);
    const label = `bisect: [${i + 1}/${series.length}] ${patch.subject}`;
    opts.onProgress?.(label);
    const am = await wt.tryRun(['am', '-3', '--no-gpg-sign', '--keep-cr'], { input: patch.patch.raw });
    if (am.code !== 0) {
      await wt.tryRun(['am', '--abort']);
      run.add({ id: `bisect/${i + 1}`, name: label, kind: 'build', status: 'fail', message: `does not apply: ${am.stderr.trim().split('\n').slice(-4).join('\n')}` });
      for (const [j, rest] of series.slice(i + 1).entries()) {
        run.add({ id: `bisect/${i + j + 2}`, name: `bisect: [${i + j + 2}/${series.length}] ${rest.subject}`, kind: 'build', status: 'skip', message: 'an earlier patch did not apply' });
      }
      return;
    }
    const m = await make(ctx, ['bzImage']);
    const newWarnings = m.diagnostics.filter((d) => d.severity === 'warning' && !seen.has(warningKey(d)));
    for (const d of m.diagnostics) if (d.severity === 'warning') seen.add(warningKey(d));
    run.addBuild(`bisect/${i + 1}`, label, m, { newWarnings });
  }
}

/** Runs a suite and reports every result; throws KernelError when it cannot run at all. */
export async function runSuite(opts: RunnerOptions): Promise<RunnerReport> {
  const t0 = Date.now();
  const kernelDir = resolve(opts.kernelDir);
  const problem = kernelTreeProblem(kernelDir);
  if (problem) throw new KernelError(problem);
  await requireTools(opts.suite === 'compile' || opts.suite === 'build' ? [] : [['qemu-system-x86_64', 'qemu-system-x86'], ['busybox', 'busybox-static']]);
  const run = new Run({ ...opts, kernelDir });
  const buildDir = resolve(opts.buildDir ?? defaultBuildDir(kernelDir));
  const ctx = run.ctx(kernelDir, buildDir);
  try {
    switch (opts.suite) {
      case 'compile':
        await compileSuite(run, ctx);
        break;
      case 'build':
        await buildSuite(run, ctx);
        break;
      case 'boot':
        await bootSuite(run, ctx);
        break;
      case 'bisect':
        await bisectSuite(run);
        break;
      case 'all':
        await compileSuite(run, ctx);
        await bisectSuite(run);
        await bootSuite(run, ctx);
        break;
    }
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    if (!(e instanceof KernelError)) throw e;
    // A step that could not run after others did is a failed result, not a lost report.
    if (run.results.length === 0) throw e;
    run.add({ id: `${opts.suite}/error`, name: `${opts.suite}: could not continue`, kind: 'build', status: 'fail', message: e.message });
  }
  const counts: Record<Status, number> = { pass: 0, fail: 0, skip: 0 };
  for (const r of run.results) counts[r.status]++;
  return {
    suite: opts.suite,
    ok: counts.fail === 0 && run.results.length > 0,
    results: run.results,
    diagnostics: run.diagnostics,
    counts,
    durationMs: Date.now() - t0,
    kunitTotals: run.kunitTotals,
    bootLog: run.bootLog,
  };
}
