// Scanning a directory tree: walk (symlinked directories are not followed, so loops cannot happen),
// prefilter by text, and check the candidates on worker threads (2 by default).
//
// Workers run from the built CLI bundle (dist/cli.js, which ships beside dist/extension.js) or, when
// this module runs from its TypeScript sources, from worker.ts through tsx.
import { existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createChecker, type Checker, type CheckerOptions } from './checker';
import { FileJob, type FileOutcome } from './fileJob';
import { Prefilter, type PrefilterSpec } from './prefilter';
import { CheckError, type Finding } from './types';
import { packageRoot, wasmDir as defaultWasmDir } from '../util/assets';
import { CancelledError } from '../util/process';
import { WORKER_MARK } from './worker';


export interface ScanOptions {
  signal?: AbortSignal;
  onProgress?: (p: ScanProgress) => void;
  /** Worker threads (default 2; 0 checks in this thread). */
  workers?: number;
  /** Check every .c/.h file, not only the prefilter's candidates. */
  noPrefilter?: boolean;
  /** Extensions to scan (default .c and .h). */
  extensions?: string[];
}

export interface ScanProgress {
  files: number;
  done: number;
  candidates: number;
  findings: number;
}

export interface ScanResult {
  findings: Finding[];
  skipped: { file: string; reason: string }[];
  files: number;
  candidates: number;
  bytes: number;
  ms: number;
}

export interface WorkerInit {
  mark: typeof WORKER_MARK;
  checker: Omit<CheckerOptions, 'onProgress'>;
  spec: PrefilterSpec | null;
  maxFileSize: number;
}

export type ToWorker = { type: 'files'; files: string[] } | { type: 'stop' };
export type FromWorker = { type: 'ready' } | { type: 'results'; results: FileOutcome[] } | { type: 'error'; message: string };

/** Files to scan under `roots` (files given directly are taken as they are). */
export function listFiles(roots: string[], extensions = ['.c', '.h']): { files: string[]; skipped: { file: string; reason: string }[] } {
  const files: string[] = [];
  const skipped: { file: string; reason: string }[] = [];
  const want = (name: string) => extensions.some((e) => name.endsWith(e));
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      skipped.push({ file: dir, reason: `unreadable directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git') walk(p);
      } else if (e.isFile()) {
        if (want(e.name)) files.push(p);
      } else if (e.isSymbolicLink()) {
        let st;
        try {
          st = statSync(p);
        } catch (err) {
          if (want(e.name)) skipped.push({ file: p, reason: `broken or looping symlink (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
          continue;
        }
        if (st.isDirectory()) skipped.push({ file: p, reason: 'symlink to a directory: not followed' });
        else if (st.isFile() && want(e.name)) files.push(p);
      }
    }
  };
  for (const r of roots) {
    const abs = resolve(r);
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new CheckError(`${r}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (st.isDirectory()) walk(abs);
    else if (st.isFile()) files.push(abs);
    else skipped.push({ file: abs, reason: 'not a regular file' });
  }
  return { files, skipped };
}

/** The prefilter vocabulary for a checker's tree. */
export function specFor(checker: Checker): PrefilterSpec {
  return checker.spec;
}

function workerScript(): { code: string } {
  const self = __filename;
  if (self.endsWith('.ts')) {
    const req = createRequire(join(packageRoot(), 'package.json'));
    const tsx = req.resolve('tsx/cjs');
    const entry = join(__dirname, 'worker.ts');
    return { code: `require(${JSON.stringify(tsx)}); require(${JSON.stringify(entry)});` };
  }
  // Bundled: this code lives in dist/cli.js or dist/extension.js; cli.js has no top-level `vscode`.
  const cli = basename(self) === 'cli.js' ? self : join(__dirname, 'cli.js');
  if (!existsSync(cli)) throw new CheckError(`cannot start check workers: ${cli} is missing`);
  return { code: `require(${JSON.stringify(cli)});` };
}

/**
 * Check every .c/.h under `roots` with `checker`'s tree knowledge. Findings are sorted by file and
 * position. Rejects with CancelledError when `signal` aborts (workers are terminated).
 */
export async function scanTree(checker: Checker, roots: string[], opts: ScanOptions = {}): Promise<ScanResult> {
  const t0 = Date.now();
  if (opts.signal?.aborted) throw new CancelledError('scan cancelled');
  const listed = listFiles(roots, opts.extensions);
  const spec = opts.noPrefilter ? null : specFor(checker);
  const files = listed.files;
  const maxFileSize = 8 * 1024 * 1024;
  const outcomes: FileOutcome[] = [];
  const progress: ScanProgress = { files: files.length, done: 0, candidates: 0, findings: 0 };
  const record = (rs: FileOutcome[]) => {
    for (const r of rs) {
      outcomes.push(r);
      progress.done++;
      if (r.candidate) progress.candidates++;
      progress.findings += r.findings.length;
    }
    opts.onProgress?.({ ...progress });
  };
  const nWorkers = Math.max(0, opts.workers ?? 2);
  if (nWorkers === 0 || files.length < 64) {
    await checker.ready();
    const job = new FileJob(checker, spec ? new Prefilter(spec) : null, maxFileSize);
    for (let i = 0; i < files.length; i++) {
      if (opts.signal?.aborted) throw new CancelledError('scan cancelled');
      record([job.run(files[i])]);
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
  } else {
    await runWorkers(checker, spec, files, nWorkers, maxFileSize, record, opts.signal);
  }
  const findings: Finding[] = [];
  const skipped = [...listed.skipped];
  let bytes = 0;
  let candidates = 0;
  for (const o of outcomes) {
    findings.push(...o.findings);
    if (o.skipped) skipped.push({ file: o.file, reason: o.skipped });
    bytes += o.bytes;
    if (o.candidate) candidates++;
  }
  findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.range.start.line - b.range.start.line || a.range.start.col - b.range.start.col));
  skipped.sort((a, b) => (a.file < b.file ? -1 : 1));
  return { findings, skipped, files: files.length, candidates, bytes, ms: Date.now() - t0 };
}

function runWorkers(
  checker: Checker,
  spec: PrefilterSpec | null,
  files: string[],
  n: number,
  maxFileSize: number,
  record: (rs: FileOutcome[]) => void,
  signal?: AbortSignal,
): Promise<void> {
  const init: WorkerInit = {
    mark: WORKER_MARK,
    checker: { kernelDir: checker.kernelDir, wasmDir: defaultWasmDir(), index: checker.index, noIndex: true, spec: checker.spec },
    spec,
    maxFileSize,
  };
  const { code } = workerScript();
  const chunk = 128;
  let next = 0;
  return new Promise<void>((resolvePromise, reject) => {
    const workers: Worker[] = [];
    let live = 0;
    let failed = false;
    const stopAll = () => {
      for (const w of workers) void w.terminate();
    };
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      signal?.removeEventListener('abort', onAbort);
      stopAll();
      reject(e);
    };
    const onAbort = () => fail(new CancelledError('scan cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const feed = (w: Worker) => {
      if (next >= files.length) {
        w.postMessage({ type: 'stop' } satisfies ToWorker);
        return;
      }
      const batch = files.slice(next, next + chunk);
      next += batch.length;
      w.postMessage({ type: 'files', files: batch } satisfies ToWorker);
    };
    for (let i = 0; i < Math.min(n, Math.ceil(files.length / chunk)); i++) {
      const w = new Worker(code, { eval: true, workerData: init, resourceLimits: { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 8 } });
      workers.push(w);
      live++;
      w.on('message', (msg: FromWorker) => {
        if (failed) return;
        if (msg.type === 'ready') feed(w);
        else if (msg.type === 'results') {
          record(msg.results);
          feed(w);
        } else if (msg.type === 'error') fail(new CheckError(`check worker: ${msg.message}`));
      });
      w.on('error', (e) => fail(e));
      w.on('exit', (codeNum) => {
        live--;
        if (failed) return;
        if (codeNum !== 0) return fail(new CheckError(`check worker exited with code ${codeNum}`));
        if (live === 0) {
          signal?.removeEventListener('abort', onAbort);
          resolvePromise();
        }
      });
    }
  });
}

/** Make a checker for `kernelDir` and scan `roots` (default: the whole tree). */
export async function checkTree(
  opts: CheckerOptions & ScanOptions & { roots?: string[] },
): Promise<{ result: ScanResult; checker: Checker }> {
  const checker = await createChecker(opts);
  const roots = opts.roots?.length ? opts.roots : checker.kernelDir ? [checker.kernelDir] : [];
  if (roots.length === 0) throw new CheckError('nothing to check: give a kernel tree or paths');
  const result = await scanTree(checker, roots, opts);
  return { result, checker };
}
