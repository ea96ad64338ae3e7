// kernel-ref/base.json: what the pinned base is and how to check a checkout against it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelRefDir } from '../util/assets';

export interface BaseManifest {
  /** Debian package that ships the tarball. */
  package: string;
  /** Debian package version the manifest was made from. */
  debianVersion: string;
  /** Kernel version (Makefile VERSION.PATCHLEVEL.SUBLEVEL). */
  kernelVersion: string;
  tarball: string;
  /** The directory the tarball extracts to. */
  topDir: string;
  branch: string;
  tag: string;
  commit: { author: string; email: string; date: string; message: string; id: string };
  /** Path → sha256 of the file in the base; null: the file must not exist in the base. */
  files: Record<string, string | null>;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const SHA256 = /^[0-9a-f]{64}$/;
const COMMIT = /^([0-9a-f]{40})?$/;

/** Validates a parsed manifest; throws ManifestError naming the first bad field. */
export function parseManifest(data: unknown, source = 'manifest'): BaseManifest {
  const bad = (what: string) => new ManifestError(`${source}: ${what}`);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw bad('not a JSON object');
  const m = data as Record<string, unknown>;
  for (const key of ['package', 'debianVersion', 'kernelVersion', 'tarball', 'topDir', 'branch', 'tag'] as const) {
    if (typeof m[key] !== 'string' || (m[key] as string).length === 0) throw bad(`"${key}" must be a non-empty string`);
  }
  if (!/^\d+\.\d+(\.\d+)?$/.test(m.kernelVersion as string)) throw bad(`"kernelVersion" is not a kernel version: ${m.kernelVersion}`);
  if ((m.topDir as string).includes('/') || m.topDir === '..' || m.topDir === '.') throw bad('"topDir" must be a single directory name');
  const c = m.commit as Record<string, unknown> | undefined;
  if (typeof c !== 'object' || c === null) throw bad('"commit" must be an object');
  for (const key of ['author', 'email', 'date', 'message'] as const) {
    if (typeof c[key] !== 'string' || (c[key] as string).length === 0) throw bad(`"commit.${key}" must be a non-empty string`);
  }
  if (typeof c.id !== 'string' || !COMMIT.test(c.id)) throw bad('"commit.id" must be a 40-digit commit id or ""');
  if (Number.isNaN(Date.parse(c.date as string))) throw bad(`"commit.date" is not a date: ${c.date}`);
  const files = m.files as Record<string, unknown> | undefined;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) throw bad('"files" must be an object');
  for (const [path, sum] of Object.entries(files)) {
    if (path.startsWith('/') || path.split('/').includes('..')) throw bad(`"files": path must be relative to the tree: ${path}`);
    if (sum !== null && (typeof sum !== 'string' || !SHA256.test(sum))) throw bad(`"files": ${path}: not a sha256 (or null)`);
  }
  return {
    package: m.package as string,
    debianVersion: m.debianVersion as string,
    kernelVersion: m.kernelVersion as string,
    tarball: m.tarball as string,
    topDir: m.topDir as string,
    branch: m.branch as string,
    tag: m.tag as string,
    commit: c as BaseManifest['commit'],
    files: files as Record<string, string | null>,
  };
}

/** Loads kernel-ref/base.json (or another manifest file). */
export function loadManifest(file = join(kernelRefDir(), 'base.json')): BaseManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ManifestError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  return parseManifest(data, file);
}

export interface Drift {
  path: string;
  expected: string | null;
  /** sha256 found, or null when the file is absent. */
  actual: string | null;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Compares file contents (undefined: absent) with the manifest; one entry per mismatching file. */
export function compareFiles(manifest: BaseManifest, contents: ReadonlyMap<string, Buffer | undefined>): Drift[] {
  const drift: Drift[] = [];
  for (const [path, expected] of Object.entries(manifest.files)) {
    const data = contents.get(path);
    const actual = data === undefined ? null : sha256(data);
    if (actual !== expected) drift.push({ path, expected, actual });
  }
  return drift;
}

/** One line per drifting file, for terminals and logs. */
export function describeDrift(d: Drift): string {
  if (d.expected === null) return `${d.path}: should not exist in the base, but does (sha256 ${d.actual!.slice(0, 12)}…)`;
  if (d.actual === null) return `${d.path}: missing (expected sha256 ${d.expected.slice(0, 12)}…)`;
  return `${d.path}: sha256 ${d.actual.slice(0, 12)}… differs from the manifest's ${d.expected.slice(0, 12)}…`;
}
