// Configuring and building a kernel checkout in an O= directory outside it: tinyconfig for x86_64 plus
// our fragment, every fragment option verified to survive olddefconfig, ccache when installed.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { KERNEL_TREE_FILES, missingKernelFiles } from './tree';
import { cacheRoot, kernelRefDir } from '../util/assets';
import { CancelledError, run, which } from '../util/process';
import { parseBuildOutput, type CompilerDiagnostic } from './diagnostics';

export class KernelError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'KernelError';
  }
}

export interface BuildContext {
  srcDir: string;
  buildDir: string;
  /** The Kconfig fragment merged onto tinyconfig. */
  fragment: string;
  arch?: string;
  jobs?: number;
  /** Use ccache when installed (default true). */
  ccache?: boolean;
  signal?: AbortSignal;
  /** Every line make prints, as it comes. */
  onOutput?: (line: string) => void;
  onProgress?: (message: string) => void;
}

export interface MakeResult {
  ok: boolean;
  code: number | null;
  timedOut: boolean;
  durationMs: number;
  diagnostics: CompilerDiagnostic[];
  /** The tail of the output, for a failure message. */
  tail: string[];
}

export const DEFAULT_FRAGMENT = () => join(kernelRefDir(), 'config', 'netmem.config');

/** The default O= directory for a checkout: outside it, one per checkout path. */
export function defaultBuildDir(srcDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const id = createHash('sha256').update(resolve(srcDir)).digest('hex').slice(0, 12);
  return join(cacheRoot(env), 'build', id);
}

/** Is `dir` a kernel source tree? Names what is missing otherwise. */
export function kernelTreeProblem(dir: string): string | undefined {
  const missing = missingKernelFiles(dir, [...KERNEL_TREE_FILES, join('scripts', 'kconfig', 'merge_config.sh')])[0];
  return missing ? `${dir} is not a kernel tree (no ${missing})` : undefined;
}

const TOOLS: Array<[string, string]> = [
  ['make', 'make'],
  ['gcc', 'gcc'],
  ['flex', 'flex'],
  ['bison', 'bison'],
  ['bc', 'bc'],
  ['perl', 'perl'],
];

/** Throws a KernelError naming the apt-get command when a build tool is missing. */
export async function requireTools(extra: Array<[string, string]> = []): Promise<void> {
  const missing: Array<[string, string]> = [];
  for (const t of [...TOOLS, ...extra]) if (!(await which(t[0]))) missing.push(t);
  if (missing.length) {
    const pkgs = [...new Set(missing.map(([, p]) => p))];
    throw new KernelError(`missing ${missing.map(([p]) => p).join(', ')}`, `apt-get install ${pkgs.join(' ')}`);
  }
}

/** `CONFIG_X` → wanted value (`y`, `m`, a string or number, or `n` for "is not set"). */
export function parseConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (set) {
      out.set(set[1]!, set[2]!);
      continue;
    }
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line.trim());
    if (unset) out.set(unset[1]!, 'n');
  }
  return out;
}

/** Fragment options whose value did not survive into .config, with what .config has instead. */
export function configMismatches(fragment: string, dotconfig: string): Array<{ option: string; wanted: string; got: string }> {
  const want = parseConfig(fragment);
  const have = parseConfig(dotconfig);
  const bad: Array<{ option: string; wanted: string; got: string }> = [];
  for (const [option, wanted] of want) {
    const got = have.get(option) ?? 'n';
    if (got !== wanted) bad.push({ option, wanted, got });
  }
  return bad;
}

/** The deepest directory holding both paths ('/' when they share nothing else). */
export function commonAncestor(a: string, b: string): string {
  const pa = resolve(a).split('/');
  const pb = resolve(b).split('/');
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join('/') || '/';
}

/**
 * ccache's base_dir: the common ancestor of source and build directory, so that two checkouts laid out
 * alike (source and O= directory at the same relative places) share cache hits. Never '/', which
 * would rewrite the compiler's own header paths too.
 */
export function ccacheEnv(srcDir: string, buildDir: string): NodeJS.ProcessEnv {
  const base = commonAncestor(srcDir, buildDir);
  return base === '/' ? {} : { CCACHE_BASEDIR: base, CCACHE_NOHASHDIR: '1' };
}

function makeArgs(ctx: BuildContext, ccache: boolean, extra: string[]): string[] {
  const args = ['-C', resolve(ctx.srcDir), `O=${resolve(ctx.buildDir)}`, `ARCH=${ctx.arch ?? 'x86_64'}`];
  if (ccache) args.push('CC=ccache gcc', 'HOSTCC=ccache gcc');
  return [...args, ...extra];
}

/** Runs make in the build directory, streaming lines and collecting diagnostics. */
export async function make(ctx: BuildContext, targets: string[], opts: { extra?: string[]; timeoutMs?: number } = {}): Promise<MakeResult> {
  const ccache = ctx.ccache !== false && (await which('ccache')) !== undefined;
  const jobs = ctx.jobs ?? availableParallelism();
  const args = makeArgs(ctx, ccache, [`-j${jobs}`, ...(opts.extra ?? []), ...targets]);
  let partial = '';
  const emit = (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) ctx.onOutput?.(l);
  };
  const t0 = Date.now();
  const r = await run('make', args, {
    signal: ctx.signal,
    timeoutMs: opts.timeoutMs,
    env: { ...process.env, ...(ccache ? ccacheEnv(ctx.srcDir, ctx.buildDir) : {}), LC_ALL: 'C', KBUILD_BUILD_TIMESTAMP: 'netmem', KBUILD_BUILD_USER: 'netmem', KBUILD_BUILD_HOST: 'netmem' },
    onStdout: emit,
    onStderr: emit,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (partial) ctx.onOutput?.(partial);
  if (r.cancelled) throw new CancelledError();
  const output = `${r.stdout}\n${r.stderr}`;
  return {
    ok: r.code === 0,
    code: r.code,
    timedOut: r.timedOut,
    durationMs: Date.now() - t0,
    diagnostics: parseBuildOutput(output, { srcDir: ctx.srcDir, buildDir: ctx.buildDir }),
    tail: output.trim().split('\n').slice(-25),
  };
}

/**
 * tinyconfig + fragment + olddefconfig in the build directory, skipped when the stamp says the same
 * fragment was applied already. Throws KernelError when a fragment option does not survive.
 */
export async function configure(ctx: BuildContext): Promise<void> {
  const problem = kernelTreeProblem(ctx.srcDir);
  if (problem) throw new KernelError(problem);
  let fragment: string;
  try {
    fragment = await readFile(ctx.fragment, 'utf8');
  } catch (e) {
    throw new KernelError(`cannot read the config fragment ${ctx.fragment}: ${(e as Error).message}`);
  }
  await mkdir(ctx.buildDir, { recursive: true });
  const dotconfig = join(ctx.buildDir, '.config');
  const stampFile = join(ctx.buildDir, '.netmem-config');
  const stamp = createHash('sha256').update(`${ctx.arch ?? 'x86_64'}\n${resolve(ctx.srcDir)}\n${fragment}`).digest('hex');
  if (existsSync(dotconfig) && (await readFile(stampFile, 'utf8').catch(() => '')) === stamp) {
    const bad = configMismatches(fragment, await readFile(dotconfig, 'utf8'));
    if (bad.length === 0) return;
  }
  ctx.onProgress?.('configuring: tinyconfig + fragment');
  const step = async (what: string, command: string, args: string[]) => {
    const r = await run(command, args, { cwd: ctx.srcDir, signal: ctx.signal, env: { ...process.env, LC_ALL: 'C' }, onStdout: (c) => c.split('\n').forEach((l) => l && ctx.onOutput?.(l)) });
    if (r.cancelled) throw new CancelledError();
    if (r.code !== 0) throw new KernelError(`${what} failed: ${r.stderr.trim().split('\n').slice(-5).join('\n') || `exit ${r.code}`}`);
  };
  const ccache = false; // configuration compiles nothing worth caching
  await step('make tinyconfig', 'make', makeArgs(ctx, ccache, ['tinyconfig']));
  await step('merge_config.sh', 'bash', [join(ctx.srcDir, 'scripts/kconfig/merge_config.sh'), '-m', '-O', ctx.buildDir, dotconfig, resolve(ctx.fragment)]);
  await step('make olddefconfig', 'make', makeArgs(ctx, ccache, ['olddefconfig']));
  const bad = configMismatches(fragment, await readFile(dotconfig, 'utf8'));
  if (bad.length) {
    throw new KernelError(`config options did not survive olddefconfig: ${bad.map((b) => `${b.option}=${b.wanted} (got ${b.got})`).join(', ')}`);
  }
  await writeFile(stampFile, stamp);
}

/** The object files of the given .c sources that the configuration builds. */
export async function enabledObjects(ctx: BuildContext, sources: readonly string[]): Promise<string[]> {
  const config = parseConfig(await readFile(join(ctx.buildDir, '.config'), 'utf8'));
  const out: string[] = [];
  for (const src of sources) {
    if (!src.endsWith('.c')) continue;
    const dir = src.slice(0, src.lastIndexOf('/'));
    const base = src.slice(src.lastIndexOf('/') + 1, -2);
    const makefile = await readFile(join(ctx.srcDir, dir, 'Makefile'), 'utf8').catch(() => '');
    if (objectEnabled(makefile, `${base}.o`, config)) out.push(`${dir}/${base}.o`);
  }
  return out;
}

/**
 * Whether a kbuild Makefile builds `object` into the kernel under `config`: `obj-y += x.o`,
 * `obj-$(CONFIG_X) += x.o`, or `foo-y/foo-objs += x.o` with foo.o enabled. Directory enablement above
 * is not checked here: callers build the object, and make answers for the rest.
 */
export function objectEnabled(makefile: string, object: string, config: ReadonlyMap<string, string>, depth = 0): boolean {
  if (depth > 4) return false;
  const text = makefile.replace(/\\\n/g, ' ');
  const assign = /^\s*([A-Za-z0-9_-]+)-(y|objs|\$\((CONFIG_[A-Za-z0-9_]+)\))\s*[:+]?=\s*(.*)$/gm;
  for (const m of text.matchAll(assign)) {
    const [, target, kind, option, rhs] = m;
    if (!rhs!.split(/\s+/).includes(object)) continue;
    const on = kind === 'y' || kind === 'objs' || (option !== undefined && ['y', 'm'].includes(config.get(option) ?? 'n'));
    if (!on) continue;
    if (target === 'obj' || target === 'lib') return true;
    if (objectEnabled(makefile, `${target}.o`, config, depth + 1)) return true;
  }
  return false;
}
