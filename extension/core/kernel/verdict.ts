// Verdicts from a guest's serial log, parsed line by line: TAP from our guest programs, KTAP/KUnit
// from the kernel, and kernel trouble (BUG, Oops, WARNING, panic) each become test results with the
// log lines around them. A guest that never reached userspace, never finished, or hung is a failure too.

export type Status = 'pass' | 'fail' | 'skip';

export interface TestResult {
  /** Stable id: `guest/<program>/<n>`, `kunit/<suite>/<case>`, `kernel/<kind>/<n>`, `boot/<what>`. */
  id: string;
  name: string;
  kind: 'guest' | 'kunit' | 'kernel' | 'boot';
  status: Status;
  /** Why it failed or was skipped, when the log says. */
  message?: string;
  /** 1-based line in the log where the result (or the trouble) is reported. */
  line?: number;
  /** Log lines around a failure. */
  excerpt?: string[];
}

export interface KunitTotals {
  pass: number;
  fail: number;
  skip: number;
  total: number;
}

export interface Verdict {
  ok: boolean;
  results: TestResult[];
  kunitTotals?: KunitTotals;
  reachedUserspace: boolean;
  finished: boolean;
  counts: { pass: number; fail: number; skip: number };
}

/** What our /init prints, so the parser knows the boot's milestones. */
export const MARKERS = {
  userspace: 'netmem-guest: userspace',
  program: 'netmem-guest: run ',
  /** `netmem-guest: exit NAME STATUS` after each program. */
  exit: 'netmem-guest: exit ',
  done: 'netmem-guest: done',
} as const;

export interface VerdictOptions {
  /** The run was killed at its timeout. */
  timedOut?: boolean;
  /** Lines of context before a kernel trouble line. */
  before?: number;
  /** Lines after it at most (a trace ends earlier at its `---[ end trace` line). */
  after?: number;
}

const TIMESTAMP = /^\[\s*\d+\.\d+\]\s?/;
const TAP_RESULT = /^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$/;
const KUNIT_TOTALS = /^#\s*Totals:\s*pass:(\d+)\s+fail:(\d+)\s+skip:(\d+)\s+total:(\d+)/;
const SUBTEST = /^#\s*Subtest:\s*(\S+)/;

const TROUBLE: Array<{ kind: string; re: RegExp }> = [
  { kind: 'panic', re: /Kernel panic - not syncing/ },
  { kind: 'bug', re: /\bBUG: / },
  { kind: 'bug', re: /kernel BUG at / },
  { kind: 'oops', re: /\bOops(: |\b.*\bSMP\b)/ },
  { kind: 'warning', re: /\bWARNING: (CPU: \d+ PID: \d+|at )/ },
  { kind: 'warning', re: /------------\[ cut here \]------------/ },
];

/** Where a BUG or WARNING report says it fired: `kernel BUG at F:L!`, `WARNING: CPU: n PID: n at F:L …`. */
const SOURCE_AT = /(?:kernel BUG at |WARNING: (?:CPU: \d+ PID: \d+ )?at )([^\s:]+):(\d+)\b/;

/** The source file (as the kernel printed it) and line a kernel trouble line names, if any. */
export function troubleSource(text: string): { file: string; line: number } | undefined {
  const m = SOURCE_AT.exec(text);
  return m ? { file: m[1]!, line: Number(m[2]) } : undefined;
}

/** The line without the serial console's timestamp and carriage return. */
export function stripLine(line: string): string {
  return line.replace(/\r$/, '').replace(TIMESTAMP, '');
}

interface Frame {
  /** The name of the (sub)test this TAP block belongs to. */
  prefix: string;
  indent: number;
}

/**
 * Parses a serial log. Guest programs print TAP after a `netmem-guest: run NAME` line; KUnit prints
 * KTAP with `# Subtest:` nesting. Indentation tells KUnit's levels apart.
 */
export function parseLog(log: string, opts: VerdictOptions = {}): Verdict {
  const lines = log.split('\n').map(stripLine);
  const results: TestResult[] = [];
  const before = opts.before ?? 5;
  const after = opts.after ?? 40;
  let reachedUserspace = false;
  let finished = false;
  let kunitTotals: KunitTotals | undefined;
  let program: string | undefined;
  let inGuest = false;
  // KUnit: stack of subtest names by indentation.
  const subtests: Frame[] = [];
  let pendingSubtest: string | undefined;
  let skipTraceUntil = -1;
  const troubleCounts = new Map<string, number>();
  // The running guest program's TAP plan and what it reported, to catch a program that died midway.
  let plan: number | undefined;
  let reported = 0;
  let failedHere = false;
  const closeProgram = (line: number, exitStatus?: number) => {
    if (!program) return;
    const problems: string[] = [];
    if (plan === undefined && reported === 0) problems.push('printed no TAP results');
    else if (plan !== undefined && reported < plan) problems.push(`planned ${plan} tests but reported ${reported}`);
    if (exitStatus !== undefined && exitStatus !== 0 && !failedHere) problems.push(`exited with status ${exitStatus}`);
    if (problems.length) {
      results.push({
        id: `guest/${program}/run`,
        name: `${program}: ran to completion`,
        kind: 'guest',
        status: 'fail',
        message: problems.join('; '),
        line,
        excerpt: lines.slice(Math.max(0, line - 1 - before * 2), line),
      });
    }
    program = undefined;
    plan = undefined;
    reported = 0;
    failedHere = false;
    inGuest = false;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const text = raw.trim();
    const indent = raw.length - raw.trimStart().length;

    if (raw.includes(MARKERS.userspace)) reachedUserspace = true;
    if (raw.includes(MARKERS.done)) finished = true;
    const run = raw.indexOf(MARKERS.program);
    if (run >= 0) {
      closeProgram(i + 1);
      program = raw.slice(run + MARKERS.program.length).trim().split(/\s+/)[0];
      inGuest = true;
      continue;
    }
    const exit = raw.indexOf(MARKERS.exit);
    if (exit >= 0) {
      const [name, status] = raw.slice(exit + MARKERS.exit.length).trim().split(/\s+/);
      if (name === program) closeProgram(i + 1, Number(status));
      continue;
    }
    if (raw.includes(MARKERS.done)) closeProgram(i + 1);
    if (inGuest && /^1\.\.\d+/.test(text)) {
      plan = Number(text.slice(3));
      continue;
    }

    if (i > skipTraceUntil) {
      let trouble = TROUBLE.find((t) => t.re.test(raw));
      // `cut here` opens both WARN and BUG reports: the next line says which.
      if (trouble && /cut here/.test(raw)) trouble = TROUBLE.find((t) => t.re.test(lines[i + 1] ?? '') && !/cut here/.test(t.re.source)) ?? trouble;
      if (trouble) {
        const end = traceEnd(lines, i, after);
        const n = (troubleCounts.get(trouble.kind) ?? 0) + 1;
        troubleCounts.set(trouble.kind, n);
        const headline = /cut here/.test(raw) ? (lines[i + 1] ?? raw).trim() : text;
        results.push({
          id: `kernel/${trouble.kind}/${n}`,
          name: `kernel ${trouble.kind}: ${headline.slice(0, 120)}`,
          kind: 'kernel',
          status: 'fail',
          message: headline,
          line: i + 1,
          excerpt: lines.slice(Math.max(0, i - before), end + 1),
        });
        // One trace is one failure: the BUG line and the Oops/panic lines of the same trace are not
        // counted again, but a panic after the trace ends is.
        skipTraceUntil = end;
        continue;
      }
    }

    const totals = KUNIT_TOTALS.exec(text);
    if (totals) {
      const [, pass, fail, skip, total] = totals.map(Number);
      kunitTotals = { pass: pass!, fail: fail!, skip: skip!, total: total! };
      continue;
    }
    const sub = SUBTEST.exec(text);
    if (sub) {
      pendingSubtest = sub[1];
      while (subtests.length && subtests[subtests.length - 1]!.indent >= indent) subtests.pop();
      subtests.push({ prefix: pendingSubtest!, indent });
      inGuest = false;
      continue;
    }

    const tap = TAP_RESULT.exec(text);
    if (!tap) continue;
    const [, okWord, num, rawName, directive] = tap;
    const name = (rawName ?? '').trim() || `test ${num ?? '?'}`;
    const skip = directive !== undefined && /^skip\b/i.test(directive);
    const todo = directive !== undefined && /^todo\b/i.test(directive);
    const status: Status = skip ? 'skip' : okWord === 'ok' || todo ? 'pass' : 'fail';
    const pushTap = (id: string, fullName: string, kind: 'guest' | 'kunit') =>
      results.push({
        id,
        name: fullName,
        kind,
        status,
        message: status === 'pass' ? undefined : directive ?? diagnosticsAbove(lines, i),
        line: i + 1,
        excerpt: status === 'fail' ? lines.slice(Math.max(0, i - before), i + 1) : undefined,
      });

    if (inGuest && program) {
      reported++;
      if (status === 'fail') failedHere = true;
      pushTap(`guest/${program}/${num ?? results.length + 1}`, `${program}: ${name}`, 'guest');
      continue;
    }
    // KUnit: a result at the indentation of a subtest's children belongs to that subtest; a result at
    // the subtest's own indentation closes it.
    while (subtests.length && subtests[subtests.length - 1]!.indent > indent) subtests.pop();
    const parent = subtests.length && subtests[subtests.length - 1]!.indent === indent ? subtests[subtests.length - 1] : undefined;
    if (parent && parent.prefix === name) {
      // The suite's own summary line; its cases were reported already.
      subtests.pop();
      continue;
    }
    if (subtests.length === 0) continue;
    const suite = subtests.map((f) => f.prefix).join('/');
    pushTap(`kunit/${suite}/${name}`, `${suite}: ${name}`, 'kunit');
  }

  closeProgram(lines.length);
  if (!reachedUserspace) {
    results.push({
      id: 'boot/userspace',
      name: 'boot: reached userspace',
      kind: 'boot',
      status: 'fail',
      message: opts.timedOut ? 'the guest never reached userspace before the timeout' : 'the guest never reached userspace',
      excerpt: lines.slice(-30),
    });
  } else if (!finished) {
    results.push({
      id: 'boot/finished',
      name: 'boot: guest tests finished',
      kind: 'boot',
      status: 'fail',
      message: opts.timedOut ? 'the guest hung: killed at the timeout before its tests finished' : 'the guest stopped before its tests finished',
      excerpt: lines.slice(-30),
    });
  }
  if (kunitTotals && kunitTotals.fail > 0 && !results.some((r) => r.kind === 'kunit' && r.status === 'fail')) {
    results.push({ id: 'kunit/totals', name: 'kunit: totals', kind: 'kunit', status: 'fail', message: `KUnit reports ${kunitTotals.fail} failed` });
  }

  const counts = { pass: 0, fail: 0, skip: 0 };
  for (const r of results) counts[r.status]++;
  return { ok: counts.fail === 0, results, kunitTotals, reachedUserspace, finished, counts };
}

/** The index of the last line of a kernel trace starting at `start`. */
function traceEnd(lines: readonly string[], start: number, max: number): number {
  const limit = Math.min(lines.length - 1, start + max);
  for (let j = start; j <= limit; j++) {
    if (/---\[ end (trace|Kernel panic)/.test(lines[j]!)) return j;
  }
  // No end marker: stop at the first line that is clearly not part of the trace (TAP or our markers).
  for (let j = start + 1; j <= limit; j++) {
    const t = lines[j]!.trim();
    if (TAP_RESULT.test(t) || t.startsWith('netmem-guest:')) return j - 1;
  }
  return limit;
}

/** TAP diagnostics (`# …` lines) right above a failed result, joined. */
function diagnosticsAbove(lines: readonly string[], i: number): string | undefined {
  const notes: string[] = [];
  for (let j = i - 1; j >= 0 && notes.length < 5; j--) {
    const t = lines[j]!.trim();
    if (!t.startsWith('#') || SUBTEST.test(t)) break;
    notes.unshift(t.replace(/^#\s?/, ''));
  }
  return notes.length ? notes.join('\n') : undefined;
}

