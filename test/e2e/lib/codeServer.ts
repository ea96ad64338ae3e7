// Starts one code-server for one run: its own port on 127.0.0.1, its own user-data, extensions,
// XDG and TMPDIR directories (all inside the run's scope dir), in its own process group, which is
// killed as a whole when the scope closes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CODE_SERVER_ENTRY } from './paths';
import { errorText, sleep, type Scope } from './scope';

export interface CodeServerOptions {
  /** false (default): start with --disable-workspace-trust, as @vscode/test-electron does. */
  workspaceTrust?: boolean;
  /** Extra environment for the server and so for its extension host (ignored with `profile`). */
  env?: NodeJS.ProcessEnv;
  /** A profile made with createProfile() (e.g. to install extensions first); default: a new one. */
  profile?: CodeServerProfile;
  /** Receives code-server's own output, line by line. */
  log?: (line: string) => void;
  /** Give up waiting for /healthz after this long (default 60 s). */
  startTimeoutMs?: number;
  /** Listen on this port (default: a free one). */
  port?: number;
}

export interface CodeServer {
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** vscode-remote://127.0.0.1:PORT — the authority the workbench uses for server-side files. */
  readonly remoteAuthority: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** The environment the server runs with (XDG_*, TMPDIR of its own). */
  readonly env: NodeJS.ProcessEnv;
  /** Workbench URL opening `folder` (absolute path on this machine), with an optional payload. */
  workbenchUrl(folder: string | undefined, payload?: Array<[string, string]>): string;
  /** A file or folder on this machine as the workbench's vscode-remote URI. */
  remoteUri(absPath: string): string;
  /** Kills the process group and waits until it is gone. Also registered with the scope. */
  stop(): Promise<void>;
  /** Resolves when the server process exits (for whatever reason). */
  readonly exited: Promise<void>;
}

/** User settings every run starts with. */
export const BASE_USER_SETTINGS: Record<string, unknown> = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'chat.commandCenter.enabled': false,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
};

export function codeServerInstalled(): boolean {
  return existsSync(CODE_SERVER_ENTRY);
}

/** The directories and environment of one code-server: reusable for its CLI (--install-extension). */
export interface CodeServerProfile {
  userDataDir: string;
  extensionsDir: string;
  env: NodeJS.ProcessEnv;
}

/** Creates a fresh profile under the scope dir, with BASE_USER_SETTINGS (and `settings` over them) as user settings. */
export function createProfile(scope: Scope, extraEnv?: NodeJS.ProcessEnv, settings?: Record<string, unknown>): CodeServerProfile {
  const base = join(scope.dir, 'code-server');
  const dirs = {
    userData: join(base, 'user-data'),
    extensions: join(base, 'extensions'),
    config: join(base, 'xdg-config'),
    data: join(base, 'xdg-data'),
    cache: join(base, 'xdg-cache'),
    tmp: join(base, 'tmp'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...BASE_USER_SETTINGS, ...settings }, null, 2));
  const merged: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  const env: NodeJS.ProcessEnv = {
    ...merged,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    // A kernel workspace (lib/kernel.ts) brings the cache directory it is laid out in.
    XDG_CACHE_HOME: merged.NETMEM_E2E_XDG_CACHE_HOME || dirs.cache,
    TMPDIR: dirs.tmp,
  };
  // Never let a password from the caller's environment reach the server.
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  return { userDataDir: dirs.userData, extensionsDir: dirs.extensions, env };
}

/**
 * Installs a .vsix (or an extension id) into the profile with code-server's own CLI, as a user
 * would with `code-server --install-extension`. Runs in its own process group, killed if the
 * scope closes first.
 */
export async function installExtension(
  scope: Scope,
  profile: CodeServerProfile,
  vsixOrId: string,
  log: (line: string) => void = () => {},
): Promise<void> {
  assertInstalled();
  const args = [
    CODE_SERVER_ENTRY,
    '--user-data-dir', profile.userDataDir,
    '--extensions-dir', profile.extensionsDir,
    '--install-extension', vsixOrId,
  ];
  const child = spawn(process.execPath, args, { detached: true, env: profile.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) (output.push(line), log(line));
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exit = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => (output.push(err.message), resolve(null)));
  });
  scope.defer(`code-server --install-extension (pid ${child.pid})`, () =>
    killGroup(child, exit.then(() => {}), log),
  );
  const code = await Promise.race([
    exit,
    sleep(120_000, scope.signal).then(() => {
      throw new Error('code-server --install-extension took more than 120 s');
    }),
  ]);
  if (code !== 0) throw new Error(`code-server --install-extension ${vsixOrId} failed (exit ${code}):\n${output.join('\n')}`);
}

function assertInstalled(): void {
  if (!codeServerInstalled()) {
    throw new Error(`code-server is not installed (${CODE_SERVER_ENTRY} is missing): run scripts/setup-e2e.sh`);
  }
}

export async function startCodeServer(scope: Scope, options: CodeServerOptions = {}): Promise<CodeServer> {
  assertInstalled();
  const log = options.log ?? (() => {});
  const profile = options.profile ?? createProfile(scope, options.env);

  let lastError: unknown;
  for (let attempt = 1; attempt <= (options.port ? 1 : 3); attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOnPort(scope, port, profile, options, log);
    } catch (err) {
      lastError = err;
      if (scope.signal.aborted || !/EADDRINUSE/.test(errorText(err))) throw err;
      log(`port ${port} was taken meanwhile; retrying`);
    }
  }
  throw lastError;
}

async function startOnPort(
  scope: Scope,
  port: number,
  profile: CodeServerProfile,
  options: CodeServerOptions,
  log: (line: string) => void,
): Promise<CodeServer> {
  const args = [
    CODE_SERVER_ENTRY,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--user-data-dir', profile.userDataDir,
    '--extensions-dir', profile.extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
  ];
  // detached: the server gets its own process group (it forks the extension host, the pty host and
  // file watchers), so one kill(-pid) takes everything down.
  const child = spawn(process.execPath, args, { detached: true, env: profile.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const onOutput = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 200) output.shift();
      log(line);
    }
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      output.push(`spawn error: ${err.message}`);
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  const stop = once(() => killGroup(child, exit, log));
  scope.defer(`code-server (pid ${child.pid}, port ${port})`, stop);

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const started = Date.now();
  for (;;) {
    if (exited) {
      throw new Error(`code-server exited (${exited.code ?? exited.signal}) before answering /healthz:\n${output.join('\n')}`);
    }
    if (await healthy(port)) break;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`code-server did not answer /healthz on port ${port} within ${timeoutMs / 1000} s:\n${output.join('\n')}`);
    }
    await sleep(100, scope.signal);
  }
  log(`code-server pid ${child.pid} up on port ${port} after ${Date.now() - started} ms`);

  const origin = `http://127.0.0.1:${port}`;
  const remoteAuthority = `vscode-remote://127.0.0.1:${port}`;
  const remoteUri = (absPath: string) => remoteAuthority + encodeURI(absPath);
  return {
    pid: child.pid!,
    port,
    origin,
    remoteAuthority,
    userDataDir: profile.userDataDir,
    extensionsDir: profile.extensionsDir,
    env: profile.env,
    exited: exit,
    remoteUri,
    workbenchUrl(folder, payload) {
      const params = new URLSearchParams();
      if (folder) params.set('folder', folder);
      if (payload?.length) params.set('payload', JSON.stringify(payload));
      const query = params.toString();
      return `${origin}/${query ? `?${query}` : ''}`;
    },
    stop,
  };
}

/** SIGTERM to the whole group, SIGKILL after 3 s, then wait until no member of the group is left. */
async function killGroup(child: ChildProcess, exit: Promise<void>, log: (line: string) => void): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pgid, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  };
  if (!signalGroup('SIGTERM')) return;
  const deadline = Date.now() + 3_000;
  while (Date.now() < deadline && signalGroup(0)) await sleep(50);
  if (signalGroup('SIGKILL')) {
    log(`code-server group ${pgid} did not stop on SIGTERM; sent SIGKILL`);
    const hard = Date.now() + 5_000;
    while (Date.now() < hard && signalGroup(0)) await sleep(50);
  }
  await Promise.race([exit, sleep(1_000)]);
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
