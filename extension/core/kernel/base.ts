// The pinned base tree: Debian's linux-source tarball turned into a git checkout whose commit id is
// reproducible (fixed identity, date and message, no user git configuration), verified against
// kernel-ref/base.json. A failed or cancelled run leaves nothing behind; a second run reuses the checkout.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Git, readBlobs } from '../git/git';
import { cacheRoot } from '../util/assets';
import { run, which, CancelledError, throwIfCancelled } from '../util/process';
import { compareFiles, type BaseManifest, type Drift } from './manifest';

export class BaseError extends Error {
  constructor(
    message: string,
    /** A command the user can run to fix it, when there is one. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'BaseError';
  }
}

export interface PrepareOptions {
  /** The checkout directory; default: defaultBaseDir(). Its parent must exist unless it is the default. */
  dir?: string;
  /** Use this tarball instead of the Debian package's. */
  tarball?: string;
  /** Install the Debian package when the tarball is missing (needs root). Default true. */
  install?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface BaseResult {
  dir: string;
  commit: string;
  reused: boolean;
  /** Files of the manifest whose content at the base commit differs from it. */
  drift: Drift[];
  /** Things worth telling that are not drift (other package version, other commit id). */
  notices: string[];
}

/** Free space wanted before extracting: the tree (~1.5 GB) plus its git objects (~0.5 GB), with margin. */
const NEEDED_BYTES = 3 * 1024 ** 3;

/** `$NETMEM_BASE_DIR`, else `$XDG_CACHE_HOME/netmem-series/linux-<version>`, else `~/.cache/…`. */
export function defaultBaseDir(manifest: BaseManifest, env: NodeJS.ProcessEnv = process.env): string {
  if (env.NETMEM_BASE_DIR) return resolve(env.NETMEM_BASE_DIR);
  return join(cacheRoot(env), `linux-${manifest.kernelVersion}`);
}

/** The fixed identity and configuration that make the base commit reproducible. */
function pristineGit(cwd: string, manifest: BaseManifest): Git {
  const c = manifest.commit;
  return new Git(cwd, {
    env: {
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: c.author,
      GIT_AUTHOR_EMAIL: c.email,
      GIT_AUTHOR_DATE: c.date,
      GIT_COMMITTER_NAME: c.author,
      GIT_COMMITTER_EMAIL: c.email,
      GIT_COMMITTER_DATE: c.date,
    },
    config: { 'core.autocrlf': 'false', 'core.filemode': 'true', 'core.symlinks': 'true', 'commit.gpgsign': 'false', 'core.hooksPath': '/dev/null' },
  });
}

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

const DEBIAN_IGNORE_MARKER = 'Debian packaging: ignore everything at the top level';

/**
 * Debian's tarball appends a block to the top-level .gitignore that ignores every top-level entry (it
 * is meant for Debian's packaging repository). In a kernel checkout that hides every new file, such as
 * the series' include/net/netmem.h, from git: drop that block. Returns the .gitignore text to write, or
 * undefined when there is no such block.
 */
export function stripDebianIgnoreBlock(text: string): string | undefined {
  const lines = text.split('\n');
  const marker = lines.findIndex((l) => l.includes(DEBIAN_IGNORE_MARKER));
  if (marker < 0) return undefined;
  let start = marker;
  while (start > 0 && /^#\s*$/.test(lines[start - 1]!)) start--;
  let end = marker;
  while (end < lines.length && lines[end]!.trim() !== '!/debian/') end++;
  if (end === lines.length) return undefined;
  const kept = [...lines.slice(0, start), ...lines.slice(end + 1)];
  while (kept.length > 1 && kept[kept.length - 1] === '' && kept[kept.length - 2] === '') kept.pop();
  return kept.join('\n');
}

/** Verifies the manifest's files at `rev` of the checkout. */
export async function verifyBase(dir: string, manifest: BaseManifest, rev: string = manifest.tag): Promise<Drift[]> {
  const blobs = await readBlobs(dir, rev, Object.keys(manifest.files));
  return compareFiles(manifest, blobs);
}

/** The installed version of a Debian package, or undefined. */
async function debianVersion(pkg: string): Promise<string | undefined> {
  const r = await run('dpkg-query', ['-W', '-f=${Version}', pkg]).catch(() => undefined);
  return r?.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

async function ensureTarball(manifest: BaseManifest, opts: PrepareOptions, progress: (m: string) => void): Promise<string> {
  if (opts.tarball) {
    const t = resolve(opts.tarball);
    if (!existsSync(t)) throw new BaseError(`tarball not found: ${t}`);
    return t;
  }
  if (existsSync(manifest.tarball)) return manifest.tarball;
  const command = `apt-get install ${manifest.package}`;
  if (!(await which('apt-get'))) {
    throw new BaseError(
      `${manifest.tarball} is missing and this system has no apt-get: get a Linux ${manifest.kernelVersion} source tarball and pass it with --tarball`,
    );
  }
  if (opts.install === false || process.getuid?.() !== 0) {
    throw new BaseError(`${manifest.tarball} is missing: install Debian's ${manifest.package} package`, `sudo ${command}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  progress(`installing ${manifest.package} with apt-get…`);
  let r = await run('apt-get', ['install', '-y', '-q', manifest.package], { env, signal: opts.signal });
  if (r.cancelled) throw new CancelledError();
  if (r.code !== 0) {
    progress('apt-get install failed; updating the package lists and trying again…');
    await run('apt-get', ['update', '-q'], { env, signal: opts.signal });
    r = await run('apt-get', ['install', '-y', '-q', manifest.package], { env, signal: opts.signal });
    if (r.cancelled) throw new CancelledError();
  }
  if (r.code !== 0 || !existsSync(manifest.tarball)) {
    const why = r.stderr.trim().split('\n').slice(-3).join(' ');
    throw new BaseError(`could not install ${manifest.package}${why ? `: ${why}` : ''}`, command);
  }
  return manifest.tarball;
}

/** Reuses the checkout at `dir` when it is ours; throws when `dir` holds something else. */
async function reuse(dir: string, manifest: BaseManifest): Promise<BaseResult | undefined> {
  if (!existsSync(dir)) return undefined;
  const st = await stat(dir);
  if (!st.isDirectory()) throw new BaseError(`${dir} exists and is not a directory`);
  if (await isEmptyDir(dir)) return undefined;
  const git = new Git(dir);
  const isOurs = existsSync(join(dir, '.git')) && (await git.isRepository()) && resolve(await git.topLevel()) === resolve(dir);
  const commit = isOurs ? await git.resolve(`refs/tags/${manifest.tag}`) : undefined;
  if (!commit) {
    throw new BaseError(`${dir} exists and is not a netmem base checkout (no git repository with tag ${manifest.tag}); choose another --dir or remove it`);
  }
  const notices: string[] = [];
  if (manifest.commit.id && commit !== manifest.commit.id) {
    notices.push(`the checkout's base commit ${commit.slice(0, 12)} is not the manifest's ${manifest.commit.id.slice(0, 12)} (made from another package version?)`);
  }
  return { dir, commit, reused: true, drift: await verifyBase(dir, manifest, commit), notices };
}

/**
 * Prepares the pinned base checkout and returns where it is. Throws BaseError (with a hint where there
 * is a command to run) or CancelledError; in either case no partial checkout is left.
 */
export async function prepareBase(manifest: BaseManifest, opts: PrepareOptions = {}): Promise<BaseResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const isDefault = opts.dir === undefined;
  const dir = resolve(opts.dir ?? defaultBaseDir(manifest, opts.env));
  const parent = dirname(dir);

  const existing = await reuse(dir, manifest);
  if (existing) {
    progress(`reusing ${dir}`);
    return existing;
  }
  if (isDefault) {
    await mkdir(parent, { recursive: true }).catch((e: Error) => {
      throw new BaseError(`cannot create ${parent}: ${e.message}`);
    });
  } else if (!existsSync(parent)) {
    throw new BaseError(`${parent} does not exist (the parent directory of --dir must exist)`);
  }
  throwIfCancelled(opts.signal);

  // Everything is made in a temporary sibling and renamed into place at the end.
  let tmp: string;
  try {
    tmp = await mkdtemp(join(parent, `.${basename(dir)}.partial-`));
  } catch (e) {
    throw new BaseError(`cannot write in ${parent}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const free = await statfs(tmp).then((s) => s.bavail * s.bsize).catch(() => Infinity);
    if (free < NEEDED_BYTES) {
      throw new BaseError(`${parent} has ${(free / 1024 ** 3).toFixed(1)} GiB free; the base checkout needs about 3 GiB`);
    }
    const tarball = await ensureTarball(manifest, opts, progress);
    const notices: string[] = [];
    if (!opts.tarball) {
      const installed = await debianVersion(manifest.package);
      if (installed && installed !== manifest.debianVersion) {
        notices.push(`${manifest.package} ${installed} is installed; the manifest was made from ${manifest.debianVersion}`);
      }
    }

    progress(`extracting ${tarball}…`);
    const tar = await run('tar', ['-xf', tarball, '--no-same-owner', '-C', tmp], { signal: opts.signal });
    if (tar.cancelled) throw new CancelledError();
    if (tar.code !== 0) {
      const why = tar.stderr.trim().split('\n').filter((l) => !/Exiting with failure/.test(l)).slice(0, 2).join('; ');
      throw new BaseError(`cannot extract ${tarball} (damaged or not a tar archive): ${why || `tar exited ${tar.code}`}`);
    }
    const top = join(tmp, manifest.topDir);
    if (!existsSync(join(top, 'Makefile')) || !existsSync(join(top, 'include', 'linux', 'skbuff.h'))) {
      throw new BaseError(`${tarball} does not hold a kernel tree under ${manifest.topDir}/`);
    }

    const ignoreFile = join(top, '.gitignore');
    const fixed = existsSync(ignoreFile) ? stripDebianIgnoreBlock(await readFile(ignoreFile, 'utf8')) : undefined;
    if (fixed !== undefined) await writeFile(ignoreFile, fixed);

    progress('committing the pristine tree…');
    const git = pristineGit(top, manifest);
    await git.run(['init', '-q', '-b', manifest.branch]);
    await git.run(['add', '-A', '-f'], { signal: opts.signal });
    await git.run(['commit', '-q', '--no-verify', '-m', manifest.commit.message], { signal: opts.signal });
    await git.run(['tag', manifest.tag]);
    const commit = (await git.resolve('HEAD'))!;
    if (manifest.commit.id && commit !== manifest.commit.id) {
      notices.push(`base commit ${commit.slice(0, 12)} is not the manifest's ${manifest.commit.id.slice(0, 12)}: the tarball differs from the one the manifest was made from`);
    }
    progress('verifying the files the series touches…');
    const drift = await verifyBase(top, manifest, commit);
    throwIfCancelled(opts.signal);

    try {
      await rename(top, dir);
    } catch (e) {
      const raced = await reuse(dir, manifest).catch(() => undefined);
      if (raced) return raced;
      throw new BaseError(`cannot move the checkout into ${dir}: ${(e as Error).message}`);
    }
    return { dir, commit, reused: false, drift, notices };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Is the checkout's HEAD still the base commit? */
export async function headIsBase(dir: string, manifest: BaseManifest): Promise<boolean> {
  const git = new Git(dir);
  const [head, base] = await Promise.all([git.resolve('HEAD'), git.resolve(`refs/tags/${manifest.tag}`)]);
  return head !== undefined && head === base;
}
