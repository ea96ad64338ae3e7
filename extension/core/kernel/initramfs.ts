// The test guest's initramfs, built without root: the guest programs (kernel-ref/guest/*.c) compiled
// with `gcc -static`, busybox from busybox-static for /init's shell and tools, and the kernel's own
// usr/gen_init_cpio to pack them from a list, gzipped (level 1) on the way to the output file.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { access, constants, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { cacheRoot, kernelRefDir } from '../util/assets';
import { CancelledError, ProcessError, run, throwIfCancelled, which } from '../util/process';
import { KernelError } from './build';

/** The busybox applets /init uses (plus a few for debugging with netmem.shell=1). */
export const BUSYBOX_APPLETS = [
  'sh', 'mount', 'umount', 'grep', 'awk', 'mkdir', 'cat', 'cut', 'tail', 'ip', 'uname', 'dmesg', 'timeout', 'reboot',
  'poweroff', 'sleep', 'ls', 'ps', 'free', 'df',
] as const;

/** The flags every guest program is built with. */
export const GUEST_CFLAGS = ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-s'] as const;

export const DEFAULT_BUSYBOX = '/bin/busybox';

export interface GuestProgram {
  /** The name under /tests in the guest (the source's name without `.c`). */
  name: string;
  /** The compiled static binary on the host. */
  path: string;
}

export interface InitramfsLayout {
  /** The guest's /init script on the host. */
  init: string;
  /** A statically linked busybox on the host. */
  busybox: string;
  programs: readonly GuestProgram[];
  applets?: readonly string[];
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** gen_init_cpio reads whitespace-separated fields and expands ${VAR}: refuse paths it would misread. */
function checkHostPath(what: string, p: string): void {
  if (!p.startsWith('/')) throw new KernelError(`initramfs: ${what} must be an absolute path: ${p}`);
  if (/\s/.test(p) || p.includes('${')) throw new KernelError(`initramfs: ${what} path cannot go into a gen_init_cpio list (whitespace or \${): ${p}`);
}

/**
 * The gen_init_cpio list for the guest (pure): device node for the console, the directories /init
 * mounts on, busybox with its applet links, the programs under /tests (run in name order), /init.
 */
export function initramfsList(layout: InitramfsLayout): string {
  checkHostPath('/init', layout.init);
  checkHostPath('busybox', layout.busybox);
  const lines = [
    '# netmem test guest, for usr/gen_init_cpio',
    'dir /dev 0755 0 0',
    'nod /dev/console 0600 0 0 c 5 1',
    'nod /dev/null 0666 0 0 c 1 3',
    'dir /proc 0555 0 0',
    'dir /sys 0555 0 0',
    'dir /tmp 1777 0 0',
    'dir /bin 0755 0 0',
    `file /bin/busybox ${layout.busybox} 0755 0 0`,
  ];
  const applets = [...new Set(layout.applets ?? BUSYBOX_APPLETS)].sort();
  for (const a of applets) {
    if (!NAME.test(a) || a === 'busybox') throw new KernelError(`initramfs: bad applet name ${JSON.stringify(a)}`);
    lines.push(`slink /bin/${a} busybox 0777 0 0`);
  }
  lines.push('dir /tests 0755 0 0');
  const seen = new Set<string>();
  for (const p of [...layout.programs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!NAME.test(p.name)) throw new KernelError(`initramfs: bad program name ${JSON.stringify(p.name)}`);
    if (seen.has(p.name)) throw new KernelError(`initramfs: two programs named ${p.name}`);
    seen.add(p.name);
    checkHostPath(`program ${p.name}`, p.path);
    lines.push(`file /tests/${p.name} ${p.path} 0755 0 0`);
  }
  lines.push(`file /init ${layout.init} 0755 0 0`);
  return `${lines.join('\n')}\n`;
}

/** True when an ELF file has no program interpreter (PT_INTERP), i.e. runs without a dynamic loader. */
export function elfIsStatic(head: Buffer): boolean | undefined {
  if (head.length < 64 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  const u16 = (o: number) => (le ? head.readUInt16LE(o) : head.readUInt16BE(o));
  const u32 = (o: number) => (le ? head.readUInt32LE(o) : head.readUInt32BE(o));
  const phoff = is64 ? Number(le ? head.readBigUInt64LE(0x20) : head.readBigUInt64BE(0x20)) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  if (phentsize < 4 || phoff + phnum * phentsize > head.length) return undefined;
  for (let i = 0; i < phnum; i++) if (u32(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  return true;
}

/** The guest programs' sources: every `*.c` directly in guestDir, by name. */
export async function guestSources(guestDir: string): Promise<Array<{ name: string; source: string }>> {
  const entries = await readdir(guestDir);
  return entries
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => ({ name: f.slice(0, -2), source: join(guestDir, f) }));
}

export interface CompileOptions {
  guestDir?: string;
  /** Where compiled programs are kept by content hash; default `$XDG_CACHE_HOME/netmem-series/guest`. */
  cacheDir?: string;
  cc?: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface CompiledPrograms {
  programs: GuestProgram[];
  /** Names of the programs taken from the cache. */
  cached: string[];
}

export function defaultGuestCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'guest');
}

const APT_GCC = 'apt-get install gcc libc6-dev linux-libc-dev';

/**
 * Compiles every guest program with `gcc -static`, or takes it from the cache when the compiler,
 * the flags, the source and the headers beside it are unchanged.
 */
export async function compileGuestPrograms(opts: CompileOptions = {}): Promise<CompiledPrograms> {
  const guestDir = resolve(opts.guestDir ?? join(kernelRefDir(), 'guest'));
  const cacheDir = resolve(opts.cacheDir ?? defaultGuestCacheDir());
  const cc = opts.cc ?? 'gcc';
  if (!(cc.includes('/') ? existsSync(cc) : await which(cc))) throw new KernelError(`${cc} is not installed (needed for the guest programs)`, APT_GCC);
  const sources = await guestSources(guestDir);
  if (!sources.length) throw new KernelError(`no guest programs (*.c) in ${guestDir}`);

  // What a binary depends on besides its own source: the compiler and every header beside it.
  const version = await run(cc, ['--version'], { signal: opts.signal });
  if (version.cancelled) throw new CancelledError();
  if (version.code !== 0) throw new KernelError(`${cc} --version failed: ${version.stderr.trim()}`, APT_GCC);
  const common = createHash('sha256').update(version.stdout).update(GUEST_CFLAGS.join(' '));
  for (const h of (await readdir(guestDir)).filter((f) => f.endsWith('.h')).sort()) {
    common.update(`\0${h}\0`).update(await readFile(join(guestDir, h)));
  }
  const commonDigest = common.digest('hex');
  await mkdir(cacheDir, { recursive: true });

  const cached: string[] = [];
  const programs = await Promise.all(
    sources.map(async ({ name, source }): Promise<GuestProgram> => {
      const digest = createHash('sha256').update(commonDigest).update(await readFile(source)).digest('hex').slice(0, 20);
      const path = join(cacheDir, `${name}-${digest}`);
      if (existsSync(path)) {
        cached.push(name);
        return { name, path };
      }
      opts.onProgress?.(`compiling ${basename(source)}`);
      const tmp = `${path}.tmp-${process.pid}`;
      const r = await run(cc, [...GUEST_CFLAGS, '-I', guestDir, '-o', tmp, source], { signal: opts.signal, timeoutMs: 120_000 });
      if (r.cancelled) {
        await rm(tmp, { force: true });
        throw new CancelledError();
      }
      if (r.code !== 0) {
        await rm(tmp, { force: true });
        const out = `${r.stdout}${r.stderr}`.trim();
        const hint = /cannot find -lc\b|crt1\.o|No such file or directory.*#include|fatal error: .*\.h: No such file/.test(out) ? APT_GCC : undefined;
        throw new KernelError(`compiling guest program ${basename(source)} failed:\n${out.split('\n').slice(-20).join('\n')}`, hint);
      }
      await rename(tmp, path);
      return { name, path };
    }),
  );
  return { programs, cached: cached.sort() };
}

export interface InitramfsOptions extends CompileOptions {
  /** The kernel's O= build directory: it holds usr/gen_init_cpio after a build. */
  buildDir: string;
  /** The gzipped cpio to write. */
  out: string;
  /** A statically linked busybox; default /bin/busybox (Debian's busybox-static). */
  busybox?: string;
}

export interface InitramfsResult {
  out: string;
  list: string;
  programs: GuestProgram[];
  cached: string[];
  bytes: number;
  durationMs: number;
}

/** Checks that busybox exists and is static (the guest has no dynamic loader). */
export async function checkBusybox(path: string): Promise<void> {
  const hint = 'apt-get install busybox-static';
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      head = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    throw new KernelError(`${path} not found: the guest's /init needs a static busybox`, hint);
  }
  const isStatic = elfIsStatic(head);
  if (isStatic === undefined) throw new KernelError(`${path} is not an ELF program`, hint);
  if (!isStatic) throw new KernelError(`${path} is dynamically linked; the guest needs busybox-static`, hint);
}

/** The gen_init_cpio of a kernel build directory, or a KernelError saying to build first. */
export async function genInitCpio(buildDir: string): Promise<string> {
  const tool = join(resolve(buildDir), 'usr', 'gen_init_cpio');
  try {
    await access(tool, constants.X_OK);
  } catch {
    throw new KernelError(`${tool} not found: build the kernel first (it is built with the kernel, in its O= directory)`, 'netmem test --suite build');
  }
  return tool;
}

/**
 * Runs `tool listFile` and gzips its standard output into `out` (level 1, like `gzip -1`). The tool runs
 * in its own process group, killed on cancel.
 */
async function packCpio(tool: string, listFile: string, out: string, signal?: AbortSignal): Promise<void> {
  throwIfCancelled(signal);
  const child = spawn(tool, [listFile], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    stderr = (stderr + c).slice(-8192);
  });
  const onAbort = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((res, rej) => {
    child.once('error', (err: NodeJS.ErrnoException) => rej(new ProcessError(`${tool}: ${err.message}`)));
    child.once('close', (code, sig) => res({ code, sig }));
  });
  try {
    const [, status] = await Promise.all([pipeline(child.stdout, createGzip({ level: 1 }), createWriteStream(out)), exited]);
    if (signal?.aborted) throw new CancelledError();
    if (status.code !== 0) {
      throw new KernelError(`${basename(tool)} failed (${status.code ?? status.sig}): ${stderr.trim().split('\n').slice(-6).join('\n')}`);
    }
  } catch (err) {
    onAbort();
    if (signal?.aborted) throw new CancelledError();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Builds the guest initramfs: compiles the programs (cached), writes the gen_init_cpio list, packs
 * and gzips it to `out` (written to a temporary name first, then renamed). No root needed.
 */
export async function buildInitramfs(opts: InitramfsOptions): Promise<InitramfsResult> {
  const t0 = Date.now();
  const guestDir = resolve(opts.guestDir ?? join(kernelRefDir(), 'guest'));
  const init = join(guestDir, 'init');
  if (!existsSync(init)) throw new KernelError(`${init} not found: the guest's /init script is missing`);
  const tool = await genInitCpio(opts.buildDir);
  const busybox = resolve(opts.busybox ?? DEFAULT_BUSYBOX);
  await checkBusybox(busybox);
  throwIfCancelled(opts.signal);

  const { programs, cached } = await compileGuestPrograms({ ...opts, guestDir });
  const list = initramfsList({ init, busybox, programs });
  opts.onProgress?.(`packing the initramfs (${programs.length} programs${cached.length ? `, ${cached.length} from cache` : ''})`);

  const out = resolve(opts.out);
  await mkdir(resolve(out, '..'), { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'netmem-initramfs-'));
  const tmpOut = `${out}.tmp-${process.pid}`;
  try {
    const listFile = join(work, 'initramfs.list');
    await writeFile(listFile, list);
    await packCpio(tool, listFile, tmpOut, opts.signal);
    await rename(tmpOut, out);
  } finally {
    await rm(tmpOut, { force: true });
    await rm(work, { recursive: true, force: true });
  }
  const { size: bytes } = await stat(out);
  return { out, list, programs, cached, bytes, durationMs: Date.now() - t0 };
}
