// The process runner with real programs: exit codes, output, and killing the whole tree on cancel.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CancelledError, ProcessError, run, runChecked, which } from '../../extension/core/util/process';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('run()', () => {
  it('passes arguments verbatim, without a shell', async () => {
    const tricky = ['$(touch /tmp/netmem-pwned)', 'a b', "'; rm -rf /", '*'];
    const r = await run('printf', ['%s\\n', ...tricky]);
    assert.equal(r.code, 0);
    assert.deepEqual(r.stdout.split('\n').slice(0, -1), tricky);
  });

  it('returns a non-zero exit code and stderr', async () => {
    const r = await run('ls', ['/nonexistent-netmem']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nonexistent-netmem/);
  });

  it('runChecked throws with the stderr tail', async () => {
    await assert.rejects(runChecked('ls', ['/nonexistent-netmem']), (e: Error) => e instanceof ProcessError && /nonexistent-netmem/.test(e.message));
  });

  it('a missing program is a ProcessError saying so', async () => {
    await assert.rejects(run('netmem-no-such-program', []), /netmem-no-such-program: not found/);
  });

  it('feeds standard input', async () => {
    const r = await run('wc', ['-l'], { input: 'a\nb\nc\n' });
    assert.equal(r.stdout.trim(), '3');
  });

  it('cancel kills the whole process tree, grandchildren included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netmem-proc-'));
    try {
      const pidFile = join(dir, 'pids');
      const controller = new AbortController();
      // A child that starts a grandchild, records both pids, and waits.
      const script = `sleep 300 & echo $$ $! > "${pidFile}"; wait`;
      const pending = run('sh', ['-c', script], { signal: controller.signal });
      let pids: number[] = [];
      await waitFor(() => {
        try {
          pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
          return pids.length === 2;
        } catch {
          return false;
        }
      });
      assert.ok(pids.every(alive));
      controller.abort();
      const r = await pending;
      assert.equal(r.cancelled, true);
      await waitFor(() => !pids.some(alive));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a timeout kills the run and says so', async () => {
    const t0 = Date.now();
    const r = await run('sleep', ['30'], { timeoutMs: 200 });
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('runChecked turns cancel into CancelledError', async () => {
    const c = new AbortController();
    setTimeout(() => c.abort(), 100);
    await assert.rejects(runChecked('sleep', ['30'], { signal: c.signal }), CancelledError);
  });
});

describe('which()', () => {
  it('finds sh and not a missing program', async () => {
    assert.match((await which('sh')) ?? '', /\/sh$/);
    assert.equal(await which('netmem-no-such-program'), undefined);
  });
});
