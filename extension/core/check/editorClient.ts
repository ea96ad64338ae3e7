// The editor's side of the check worker (editorWorker.ts): starts the worker on first use, matches
// replies to requests, and after the worker dies starts a new one on the next request (which answers
// `unknown` for every document, so its owner sends them again).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ScanProgress, ScanResult } from './scan';
import { CheckError } from './types';
import { EDITOR_WORKER_MARK, type ContentChange, type EditorWorkerInit, type FromEditorWorker, type ToEditorWorker } from './editorWorker';
import { packageRoot } from '../util/assets';
import { CancelledError } from '../util/process';

export type CheckReply = Extract<FromEditorWorker, { type: 'checked' | 'unknown' }>;

interface Pending {
  resolve: (m: FromEditorWorker) => void;
  reject: (e: Error) => void;
  onProgress?: (p: ScanProgress) => void;
}

/** The worker's entry: dist/checkWorker.js beside the bundle, or editorWorker.ts through tsx. */
function startWorker(): Worker {
  const workerData: EditorWorkerInit = { mark: EDITOR_WORKER_MARK };
  if (__filename.endsWith('.ts')) {
    const tsx = createRequire(join(packageRoot(), 'package.json')).resolve('tsx/cjs');
    const code = `require(${JSON.stringify(tsx)}); require(${JSON.stringify(join(__dirname, 'editorWorker.ts'))});`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(join(__dirname, 'checkWorker.js'), { workerData });
}

export class EditorCheckWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private recheckListener: ((r: Extract<CheckReply, { type: 'checked' }>) => void) | undefined;

  constructor(private readonly onError: (message: string) => void = () => undefined) {}

  private port(): Worker {
    if (this.worker) return this.worker;
    const w = startWorker();
    w.unref();
    w.on('message', (m: FromEditorWorker) => {
      const p = this.pending.get(m.id);
      if (!p) {
        if (m.type === 'failed') this.onError(m.message);
        if (m.type === 'checked' && m.id === 0) this.recheckListener?.(m);
        return;
      }
      if (m.type === 'progress') return p.onProgress?.(m.progress);
      this.pending.delete(m.id);
      p.resolve(m);
    });
    const gone = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.onError(why);
      for (const p of this.pending.values()) p.reject(new CheckError(why));
      this.pending.clear();
    };
    w.on('error', (e) => gone(`check worker failed: ${e.message}`));
    w.on('exit', (code) => gone(`check worker exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private request(msg: ToEditorWorker & { id: number }, onProgress?: (p: ScanProgress) => void): Promise<FromEditorWorker> {
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject, onProgress });
      this.port().postMessage(msg);
    });
  }

  open(path: string, version: number, text: string, kernelDir?: string): void {
    this.port().postMessage({ type: 'open', path, version, text, kernelDir } satisfies ToEditorWorker);
  }

  /** `length`: the document's length after the changes (a cross-check of the worker's copy). */
  change(path: string, version: number, length: number, changes: ContentChange[]): void {
    this.worker?.postMessage({ type: 'change', path, version, length, changes } satisfies ToEditorWorker);
  }

  /**
   * `listener` gets the new findings of a held document when the worker's later full reparse of it
   * changed them (rare: a check parses only the edited function).
   */
  onDidRecheck(listener: (r: Extract<CheckReply, { type: 'checked' }>) => void): void {
    this.recheckListener = listener;
  }

  close(path: string): void {
    this.worker?.postMessage({ type: 'close', path } satisfies ToEditorWorker);
  }

  /** Check the held document `path` as it is after every change sent so far. */
  async check(path: string): Promise<CheckReply> {
    const m = await this.request({ type: 'check', id: this.nextId++, path });
    if (m.type === 'failed') throw new CheckError(m.message);
    return m as CheckReply;
  }

  /** Check `text` once as the contents of `path`. */
  async checkOnce(path: string, text: string, kernelDir?: string): Promise<CheckReply> {
    const m = await this.request({ type: 'checkOnce', id: this.nextId++, path, text, kernelDir });
    if (m.type === 'failed') throw new CheckError(m.message);
    return m as CheckReply;
  }

  /** Scan `roots` with the knowledge of `kernelDir` (or the default era); abort with `signal`. */
  async scan(roots: string[], kernelDir: string | undefined, opts: { signal?: AbortSignal; onProgress?: (p: ScanProgress) => void } = {}): Promise<{ result: ScanResult; era: string }> {
    if (opts.signal?.aborted) throw new CancelledError('scan cancelled');
    const id = this.nextId++;
    const onAbort = () => this.worker?.postMessage({ type: 'cancel', id } satisfies ToEditorWorker);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const m = await this.request({ type: 'scan', id, roots, kernelDir }, opts.onProgress);
      if (m.type === 'scanned') return { result: m.result, era: m.era };
      if (m.type === 'failed' && m.cancelled) throw new CancelledError('scan cancelled');
      throw new CheckError(m.type === 'failed' ? m.message : `unexpected reply ${m.type}`);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  dispose(): void {
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new CancelledError('check worker stopped'));
    this.pending.clear();
    void w?.terminate();
  }
}
