// A small git runner over execFile-style argument arrays. Every call names its repository explicitly.
import { spawn } from 'node:child_process';
import { run, type RunOptions, ProcessError, CancelledError } from '../util/process';

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly stderr: string,
    readonly code: number | null,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface GitOptions {
  /** Extra environment for every call (e.g. a fixed identity). */
  env?: NodeJS.ProcessEnv;
  /** `-c key=value` pairs put before every subcommand. */
  config?: Record<string, string>;
}

export class Git {
  constructor(
    readonly cwd: string,
    private readonly options: GitOptions = {},
  ) {}

  private argv(args: readonly string[]): string[] {
    const pre: string[] = [];
    for (const [k, v] of Object.entries(this.options.config ?? {})) pre.push('-c', `${k}=${v}`);
    return [...pre, ...args];
  }

  /** Runs git and returns stdout; throws GitError on a non-zero exit. */
  async run(args: readonly string[], opts: Omit<RunOptions, 'cwd' | 'env'> = {}): Promise<string> {
    const r = await this.tryRun(args, opts);
    if (r.code !== 0) {
      const msg = r.stderr.trim().split('\n').filter(Boolean).slice(-4).join('\n') || `exit ${r.code}`;
      throw new GitError(`git ${args[0]}: ${msg}`, args, r.stderr, r.code);
    }
    return r.stdout;
  }

  /** Runs git and returns exit code and output, whatever the exit code. */
  async tryRun(args: readonly string[], opts: Omit<RunOptions, 'cwd' | 'env'> = {}) {
    let r;
    try {
      r = await run('git', this.argv(args), {
        ...opts,
        cwd: this.cwd,
        env: { ...process.env, ...this.options.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      });
    } catch (e) {
      if (e instanceof ProcessError) throw new GitError('git is not installed (apt-get install git)', args, '', null);
      throw e;
    }
    if (r.cancelled) throw new CancelledError();
    return r;
  }

  /** The commit id `rev` resolves to, or undefined. */
  async resolve(rev: string): Promise<string | undefined> {
    const r = await this.tryRun(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
    return r.code === 0 ? r.stdout.trim() : undefined;
  }

  /** The branch HEAD is on, or undefined when it is detached. */
  async currentBranch(): Promise<string | undefined> {
    return (await this.tryRun(['symbolic-ref', '--short', '-q', 'HEAD'])).stdout.trim() || undefined;
  }

  async isRepository(): Promise<boolean> {
    const r = await this.tryRun(['rev-parse', '--git-dir']).catch(() => undefined);
    return r?.code === 0;
  }

  /** The repository's top-level directory. */
  async topLevel(): Promise<string> {
    return (await this.run(['rev-parse', '--show-toplevel'])).trim();
  }
}

/**
 * The raw bytes of `rev:path` for each path (undefined where the path does not exist at rev),
 * read through one `git cat-file --batch` process.
 */
export function readBlobs(cwd: string, rev: string, paths: readonly string[]): Promise<Map<string, Buffer | undefined>> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) => reject(new GitError(`git cat-file: ${e.message}`, ['cat-file'], '', null)));
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new GitError(`git cat-file: ${stderr.trim() || `exit ${code}`}`, ['cat-file'], stderr, code));
        return;
      }
      const out = Buffer.concat(chunks);
      const blobs = new Map<string, Buffer | undefined>();
      let pos = 0;
      for (const path of paths) {
        const eol = out.indexOf(0x0a, pos);
        if (eol < 0) break;
        const header = out.subarray(pos, eol).toString();
        pos = eol + 1;
        if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
          blobs.set(path, undefined);
          continue;
        }
        const size = Number(header.split(' ')[2]);
        const type = header.split(' ')[1];
        blobs.set(path, type === 'blob' ? out.subarray(pos, pos + size) : undefined);
        pos += size + 1;
      }
      resolve(blobs);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(paths.map((p) => `${rev}:${p}\n`).join(''));
  });
}
