// Scanning a directory tree: walk, prefilter by text, and check the candidates.
//
// With workers (2 by default), the workers list directories and read and prefilter every file, and
// the scanning thread parses the few candidates they report, as they come. Only that thread holds
// tree-sitter and the header index, and no thread ever holds the list of all the tree's files: a
// whole Linux tree scans in ~2.5 s wall on 2 cores at a peak of ~200 MB (README, Performance).
//
// Workers run from the built CLI bundle (dist/cli.js, which ships beside dist/extension.js) or, when
// this module runs from its TypeScript sources, from worker.ts through tsx.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createChecker, type Checker, type CheckerOptions } from './checker';
import { FileJob, type FileOutcome } from './fileJob';
import { Prefilter, type PrefilterSpec } from './prefilter';
import { CheckError, type Finding } from './types';
import { DEFAULT_EXTENSIONS, listDir, splitRoots, wanted, type Skip } from './walk';
import { packageRoot, wasmDir as defaultWasmDir } from '../util/assets';
import { CancelledError } from '../util/process';
import { WORKER_MARK } from './worker';

export { listFiles } from './walk';

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
  /**
   * Files found so far: with workers, directories are listed while files are checked, so this grows
   * until `listing` turns false (a percentage done/files is only final then).
   */
  files: number;
  /** Directories remain to be listed. */
  listing: boolean;
  done: number;
  candidates: number;
  findings: number;
}

export interface ScanResult {
  findings: Finding[];
  skipped: Skip[];
  files: number;
  candidates: number;
  bytes: number;
  ms: number;
}

export interface WorkerInit {
  mark: typeof WORKER_MARK;
  /** Only used when `parse`. */
  checker: Omit<CheckerOptions, 'onProgress'>;
  spec: PrefilterSpec | null;
  maxFileSize: number;
  extensions: string[];
  /** Parse and check candidates in the worker too (else they come back `unchecked`). */
  parse: boolean;
}

/** List `dirs` (not recursively) and check their files and `files`. */
export type ToWorker = { type: 'work'; dirs: string[]; files: string[] } | { type: 'stop' };
/**
 * `done` counts the files checked, `listed` those found in the listed directories; `results` holds
 * only the files worth reporting (candidates, skips); `dirs` are the subdirectories still to list.
 */
export interface WorkerResults {
  type: 'results';
  done: number;
  listed: number;
  /** How many directories this batch listed. */
  dirsListed: number;
  bytes: number;
  results: FileOutcome[];
  dirs: string[];
  skipped: Skip[];
}
export type FromWorker = { type: 'ready' } | WorkerResults | { type: 'error'; message: string };

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

/** Below this many files a scan does not start workers. */
const MIN_FILES_FOR_WORKERS = 64;
const MAX_FILE_SIZE = 8 * 1024 * 1024;

/**
 * Check every .c/.h under `roots` with `checker`'s tree knowledge. Findings are sorted by file and
 * position. Rejects with CancelledError when `signal` aborts (workers are terminated).
 */
export async function scanTree(checker: Checker, roots: string[], opts: ScanOptions = {}): Promise<ScanResult> {
  const t0 = Date.now();
  const signal = opts.signal;
  if (signal?.aborted) throw new CancelledError('scan cancelled');
  const extensions = opts.extensions ?? DEFAULT_EXTENSIONS;
  const spec = opts.noPrefilter ? null : specFor(checker);
  const findings: Finding[] = [];
  const skipped: Skip[] = [];
  const { files, dirs } = splitRoots(roots, skipped);
  let bytes = 0;
  const progress: ScanProgress = { files: 0, listing: false, done: 0, candidates: 0, findings: 0 };
  const checked = (o: FileOutcome) => {
    if (o.findings.length) findings.push(...o.findings);
    progress.findings += o.findings.length;
    if (o.skipped) skipped.push({ file: o.file, reason: o.skipped });
  };
  const screened = (o: FileOutcome) => {
    progress.done++;
    if (o.candidate) progress.candidates++;
    if (!o.unchecked) checked(o);
  };
  const report = () => opts.onProgress?.({ ...progress });
  const nWorkers = Math.max(0, opts.workers ?? 2);
  // Walk here until there is enough work to be worth workers (or all of it, without workers).
  const want = wanted(extensions);
  while (dirs.length && (nWorkers === 0 || files.length < MIN_FILES_FOR_WORKERS)) listDir(dirs.pop()!, want, files, dirs, skipped);
  progress.files = files.length;
  let dirsLeft = dirs.length;
  progress.listing = dirsLeft > 0;

  if (dirs.length === 0 && (nWorkers === 0 || files.length < MIN_FILES_FOR_WORKERS)) {
    await checker.ready();
    const job = new FileJob(checker, spec ? new Prefilter(spec) : null, MAX_FILE_SIZE);
    for (let i = 0; i < files.length; i++) {
      if (signal?.aborted) throw new CancelledError('scan cancelled');
      const o = job.run(files[i]);
      bytes += o.bytes;
      screened(o);
      if (i % 64 === 63 || i === files.length - 1) report();
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
  } else {
    // Candidates the workers kept are checked here, one per turn of the event loop, so that the
    // workers keep being fed meanwhile.
    const parserReady = checker.ready();
    parserReady.catch(() => {});
    const job = new FileJob(checker, null, MAX_FILE_SIZE);
    const queue: string[] = [];
    let pumping: Promise<void> = Promise.resolve();
    let active = false;
    const pump = async () => {
      active = true;
      try {
        await parserReady;
        while (queue.length) {
          if (signal?.aborted) throw new CancelledError('scan cancelled');
          checked(job.check(queue.shift()!));
          report();
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        active = false;
      }
    };
    const onResults = (msg: WorkerResults) => {
      bytes += msg.bytes;
      progress.files += msg.listed;
      dirsLeft += msg.dirs.length - msg.dirsListed;
      progress.listing = dirsLeft > 0;
      progress.done += msg.done - msg.results.length;
      skipped.push(...msg.skipped);
      for (const o of msg.results) {
        screened(o);
        if (o.unchecked) queue.push(o.file);
      }
      report();
      if (queue.length && !active) {
        pumping = pump();
        pumping.catch(() => {});
      }
    };
    const init: WorkerInit = {
      mark: WORKER_MARK,
      // Screening workers need only the prefilter's vocabulary; parsing ones the tree's index too.
      checker: spec ? {} : { kernelDir: checker.kernelDir, wasmDir: defaultWasmDir(), index: checker.index, noIndex: true, spec: checker.spec },
      spec,
      maxFileSize: MAX_FILE_SIZE,
      extensions,
      parse: !spec,
    };
    await runWorkers(init, { files, dirs }, nWorkers, onResults, signal);
    await pumping;
    if (signal?.aborted) throw new CancelledError('scan cancelled');
  }
  findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.range.start.line - b.range.start.line || a.range.start.col - b.range.start.col));
  skipped.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { findings, skipped, files: progress.files, candidates: progress.candidates, bytes, ms: Date.now() - t0 };
}

/** Messages in flight per worker: one more than it works on, so it never waits for this thread. */
const IN_FLIGHT = 2;
const FILES_PER_MESSAGE = 128;
const DIRS_PER_MESSAGE = 4;

/** Share out `work` (loose files, and directories whose subdirectories come back as more work). */
function runWorkers(
  init: WorkerInit,
  work: { files: string[]; dirs: string[] },
  n: number,
  onResults: (msg: WorkerResults) => void,
  signal?: AbortSignal,
): Promise<void> {
  const { code } = workerScript();
  return new Promise<void>((resolvePromise, reject) => {
    const workers: Worker[] = [];
    const pending = new Map<Worker, number>();
    const stopped = new Set<Worker>();
    let live = 0;
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      signal?.removeEventListener('abort', onAbort);
      for (const w of workers) void w.terminate();
      reject(e);
    };
    const onAbort = () => fail(new CancelledError('scan cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const hasWork = () => work.files.length > 0 || work.dirs.length > 0;
    const feedAll = () => {
      for (const [w, p] of pending) {
        let inFlight = p;
        while (inFlight < IN_FLIGHT && hasWork()) {
          // Directories from the top of the stack: depth first keeps the stack short.
          const files = work.files.splice(0, FILES_PER_MESSAGE);
          const dirs = files.length ? [] : work.dirs.splice(-DIRS_PER_MESSAGE);
          w.postMessage({ type: 'work', dirs, files } satisfies ToWorker);
          inFlight++;
        }
        pending.set(w, inFlight);
      }
      let busy = false;
      for (const p of pending.values()) if (p > 0) busy = true;
      if (busy || hasWork()) return;
      for (const w of pending.keys()) {
        if (stopped.has(w)) continue;
        stopped.add(w);
        w.postMessage({ type: 'stop' } satisfies ToWorker);
      }
    };
    // A screening worker holds a 1 MiB read buffer, a few header texts and the file at hand (at most
    // MAX_FILE_SIZE): small heap limits make V8 collect early instead of growing.
    const resourceLimits = init.parse ? { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 8 } : { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 4 };
    for (let i = 0; i < n; i++) {
      const w = new Worker(code, { eval: true, workerData: init, resourceLimits });
      workers.push(w);
      live++;
      w.on('message', (msg: FromWorker) => {
        if (failed) return;
        if (msg.type === 'ready') {
          pending.set(w, 0);
        } else if (msg.type === 'results') {
          pending.set(w, (pending.get(w) ?? 1) - 1);
          work.dirs.push(...msg.dirs);
          onResults(msg);
        } else if (msg.type === 'error') {
          return fail(new CheckError(`check worker: ${msg.message}`));
        }
        feedAll();
      });
      w.on('error', (e) => fail(e));
      w.on('exit', (codeNum) => {
        live--;
        if (failed) return;
        if (codeNum !== 0 || !stopped.has(w)) return fail(new CheckError(`check worker exited with code ${codeNum}`));
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
