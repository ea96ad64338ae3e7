#!/usr/bin/env node
// netmem: the extension's core from a terminal. Exit codes: 0 ok, 1 the job ran and found a problem,
// 2 it could not run (bad usage, missing tools, bad input).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { doctor, formatDoctorMarkdown } from './core/doctor';
import { BaseError, prepareBase } from './core/kernel/base';
import { describeDrift, loadManifest, ManifestError } from './core/kernel/manifest';
import { CancelledError } from './core/util/process';
import { KernelError } from './core/kernel/build';
import { formatTap, formatText, resultLine } from './core/kernel/report';
import { runSuite, SUITES, type SuiteName } from './core/kernel/runner';
import { BUNDLED_SERIES, SeriesError } from './core/series/patchfile';
import { applySeries, describeOutcome, type ApplyOutcome } from './core/series/apply';
import { loadSeries } from './core/series/mbox';
import { formatStatus, seriesStatus } from './core/series/status';
import { formatSeries, seriesSummary } from './core/series/describe';
import { packageRoot } from './core/util/assets';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_USAGE, runCheck } from './core/check/command';

class UsageError extends Error {}

interface Context {
  signal: AbortSignal;
  out: (line: string) => void;
  err: (line: string) => void;
}

type Values = Record<string, string | boolean | undefined>;

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: boolean;
  run(values: Values, positionals: string[], ctx: Context): Promise<number>;
}

const formatOption = { format: { type: 'string' as const } };

function oneOf(name: string, value: string | boolean | undefined, allowed: string[], fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return value;
}

function requireKernel(command: string, values: Values): string {
  if (typeof values.kernel !== 'string' || !values.kernel) throw new UsageError(`${command}: --kernel DIR is required`);
  return values.kernel;
}

function seriesPath(values: Values): string {
  return typeof values.series === 'string' ? values.series : BUNDLED_SERIES();
}

const commands: Record<string, Command> = {
  base: {
    summary: 'prepare the pinned base kernel tree as a git checkout and print its path',
    usage: `Usage: netmem base [--dir DIR] [--tarball FILE] [--no-install] [--format text|json]

Turns Debian's linux-source tarball (kernel-ref/base.json) into a git checkout whose commit id is
reproducible, verifies the files the series touches and prints the checkout's path. A second run
reuses the checkout. Installs the Debian package with apt-get when it is missing and you are root.

  --dir DIR        the checkout (its parent must exist); default $NETMEM_BASE_DIR or
                   $XDG_CACHE_HOME/netmem-series/linux-<version>
  --tarball FILE   use this source tarball instead of the Debian package's
  --no-install     never run apt-get; fail with the command to run instead
  --format F       text (default: the path) or json

Exit status: 0 ready, 1 ready but the files differ from the manifest, 2 could not prepare it.`,
    options: { dir: { type: 'string' }, tarball: { type: 'string' }, 'no-install': { type: 'boolean' }, ...formatOption },
    async run(values, _positionals, ctx) {
      const format = oneOf('format', values.format, ['text', 'json'], 'text');
      const manifest = loadManifest();
      const result = await prepareBase(manifest, {
        dir: values.dir as string | undefined,
        tarball: values.tarball as string | undefined,
        install: !values['no-install'],
        signal: ctx.signal,
        onProgress: (m) => ctx.err(`netmem base: ${m}`),
      });
      for (const n of result.notices) ctx.err(`netmem base: note: ${n}`);
      for (const d of result.drift) ctx.err(`netmem base: drift: ${describeDrift(d)}`);
      if (format === 'json') ctx.out(JSON.stringify({ ...result, kernelVersion: manifest.kernelVersion }, null, 2));
      else ctx.out(result.dir);
      return result.drift.length ? 1 : 0;
    },
  },
  doctor: {
    summary: 'check that this machine has what the extension and the kernel tests need',
    usage: `Usage: netmem doctor [--format text|json]

Loads the C grammar, and looks for git, the kernel build tools, QEMU and the pinned base.
Exit status: 0 everything required is there, 1 something required is missing.`,
    options: { ...formatOption },
    async run(values, _positionals, ctx) {
      const format = oneOf('format', values.format, ['text', 'json'], 'text');
      const report = await doctor(loadManifest());
      ctx.out(format === 'json' ? JSON.stringify(report, null, 2) : formatDoctorMarkdown(report).trimEnd());
      return report.ok ? 0 : 1;
    },
  },
  apply: {
    summary: 'apply the series to a kernel checkout on a new branch (never over uncommitted work)',
    usage: `Usage: netmem apply --kernel DIR [--series PATH] [--branch NAME] [--format text|json]

Applies the series with git am -3 on a new branch made from HEAD (default netmem-series). A checkout
with uncommitted changes is refused and left as it is. On a conflict or Ctrl-C the am is aborted and
HEAD, index and working tree go back to how they were. A series that is in HEAD's history already
(same patch ids) is reported as applied; patches of it that are there already are skipped.

  --kernel DIR    the kernel checkout (required)
  --series PATH   a folder of .patch files (with an optional series file) or an mbox (as b4 or a
                  mail client saves it); default the bundled series
  --branch NAME   default netmem-series

Exit status: 0 applied (or already applied), 1 refused or conflicting, 2 could not run.`,
    options: { kernel: { type: 'string' }, series: { type: 'string' }, branch: { type: 'string' }, ...formatOption },
    async run(values, _positionals, ctx) {
      const format = oneOf('format', values.format, ['text', 'json'], 'text');
      const kernel = requireKernel('apply', values);
      const series = await loadSeries(seriesPath(values));
      const outcome: ApplyOutcome = await applySeries({
        kernelDir: kernel,
        series,
        branch: values.branch as string | undefined,
        signal: ctx.signal,
        onProgress: (m) => ctx.err(`netmem apply: ${m}`),
      });
      if (outcome.kind === 'cancelled') throw new CancelledError();
      if (format === 'json') ctx.out(JSON.stringify(outcome, null, 2));
      else ctx.out(describeOutcome(outcome, series.patches.length));
      return outcome.kind === 'applied' || outcome.kind === 'already-applied' ? 0 : 1;
    },
  },
  status: {
    summary: 'show, per patch, whether the series is applied, upstream, applies cleanly, needs 3-way or conflicts',
    usage: `Usage: netmem status --kernel DIR [--series PATH] [--format text|json]

Tries each patch of the series in order against the checkout's HEAD on a temporary index; the work
tree, the index and the branches are not touched. Each patch is one of:
  applied    its patch id is in HEAD's recent history
  upstream   the change is in the tree already, though not as this commit
  clean      applies cleanly on top of the patches before it
  3way       applies only with a 3-way merge
  conflict   does not apply (the files and hunks are named)

  --kernel DIR    the kernel checkout (required)
  --series PATH   a folder of .patch files or an mbox; default the bundled series

Exit status: 0 every patch is applied, upstream or applies, 1 a patch conflicts, 2 could not run.`,
    options: { kernel: { type: 'string' }, series: { type: 'string' }, ...formatOption },
    async run(values, _positionals, ctx) {
      const format = oneOf('format', values.format, ['text', 'json'], 'text');
      const kernel = requireKernel('status', values);
      const series = await loadSeries(seriesPath(values));
      const status = await seriesStatus(kernel, series, { signal: ctx.signal });
      ctx.out(format === 'json' ? JSON.stringify(status, null, 2) : formatStatus(status));
      return status.patches.some((p) => p.state === 'conflict') ? 1 : 0;
    },
  },
  series: {
    summary: 'show a series: cover letter, and per patch its author, trailers, files and diffstat',
    usage: `Usage: netmem series [--series PATH] [--format text|json]

Reads a series (a folder of .patch files with an optional series file, or an mbox as b4, git
format-patch --stdout or a mail client saves it, LF or CRLF) and prints the cover letter and each
patch with its author, trailers, files, hunk counts and diffstat. A file that is not a patch series
is an error.

  --series PATH   default the bundled series
  --format F      text (default) or json

Exit status: 0 read, 2 not a series (or unreadable).`,
    options: { series: { type: 'string' }, ...formatOption },
    async run(values, _positionals, ctx) {
      const format = oneOf('format', values.format, ['text', 'json'], 'text');
      const series = await loadSeries(seriesPath(values));
      ctx.out(format === 'json' ? JSON.stringify(seriesSummary(series), null, 2) : formatSeries(series));
      return 0;
    },
  },
  test: {
    summary: 'build the kernel with our config, build each patch, boot it under QEMU and give a verdict',
    usage: `Usage: netmem test --kernel DIR [--suite S] [--build-dir DIR] [--timeout SEC] [--series DIR]
                   [--base REV] [--guest DIR] [--format text|tap|json] [--verbose]

Suites:
  compile  make prepare + the objects of the .c files the series touches (seconds)
  build    the full bzImage (ccache when installed)
  boot     build, then boot under QEMU with the guest tests and KUnit; verdict from the serial log
  bisect   build the base and then each patch of the series in turn, on a separate worktree
           (your checkout is not touched); new warnings fail the patch
  all      compile, bisect and boot

  --kernel DIR     the kernel checkout (required)
  --suite S        default all
  --build-dir DIR  the O= directory; default $XDG_CACHE_HOME/netmem-series/build/<id>
  --timeout SEC    QEMU boot timeout, default 180
  --series DIR     the series for compile and bisect; default the bundled patches/
  --base REV       what bisect starts from; default the netmem-base tag, else HEAD
  --guest DIR      guest programs (*.c, printing TAP) and /init; default kernel-ref/guest
  --verbose        stream make and QEMU output to stderr

Exit status: 0 all passed, 1 a test failed, 2 the run could not be made.`,
    options: {
      kernel: { type: 'string' },
      suite: { type: 'string' },
      'build-dir': { type: 'string' },
      timeout: { type: 'string' },
      series: { type: 'string' },
      base: { type: 'string' },
      guest: { type: 'string' },
      verbose: { type: 'boolean' },
      format: { type: 'string' },
    },
    async run(values, _positionals, ctx) {
      const format = oneOf('format', values.format, ['text', 'tap', 'json'], 'text');
      const suite = oneOf('suite', values.suite, [...SUITES], 'all') as SuiteName;
      if (typeof values.kernel !== 'string') throw new UsageError('test: --kernel DIR is required');
      let timeoutMs: number | undefined;
      if (values.timeout !== undefined) {
        const sec = Number(values.timeout);
        if (!Number.isFinite(sec) || sec <= 0) throw new UsageError('--timeout takes a number of seconds');
        timeoutMs = sec * 1000;
      }
      const report = await runSuite({
        kernelDir: values.kernel,
        suite,
        buildDir: values['build-dir'] as string | undefined,
        seriesDir: values.series as string | undefined,
        base: values.base as string | undefined,
        guestDir: values.guest as string | undefined,
        timeoutMs,
        signal: ctx.signal,
        onProgress: (m) => ctx.err(`netmem test: ${m}`),
        onOutput: values.verbose ? (l) => ctx.err(l) : undefined,
        onResult: format === 'text' ? (r) => ctx.err(resultLine(r)) : undefined,
      });
      if (format === 'json') ctx.out(JSON.stringify(report, null, 2));
      else if (format === 'tap') ctx.out(formatTap(report));
      else ctx.out(formatText(report));
      return report.ok ? 0 : 1;
    },
  },
  check: {
    summary: 'find direct skb_frag_t field accesses and frags used as struct bio_vec',
    usage: CHECK_USAGE,
    options: { kernel: { type: 'string' }, fix: { type: 'boolean' }, 'no-prefilter': { type: 'boolean' }, ...formatOption },
    positionals: true,
    async run(values, positionals, ctx) {
      const format = oneOf('format', values.format, ['gcc', 'json', 'sarif'], 'gcc') as 'gcc' | 'json' | 'sarif';
      return runCheck(
        { kernel: values.kernel as string | undefined, format, fix: !!values.fix, noPrefilter: !!values['no-prefilter'], paths: positionals },
        { signal: ctx.signal, out: ctx.out, err: ctx.err, version: version() },
      );
    },
  },
};

function version(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
}

function mainUsage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: netmem <command> [options]

Commands:
${rows.join('\n')}

Run 'netmem <command> --help' for a command's options.`;
}

export async function main(argv: string[], ctx: Context): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic && !commands[topic]) throw new UsageError(`unknown command '${topic}'`);
    ctx.out(topic ? commands[topic].usage : mainUsage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    ctx.out(version());
    return 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(commands).join(', ')})`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (parsed.values.help) {
    ctx.out(command.usage);
    return 0;
  }
  return command.run(parsed.values as Values, parsed.positionals, ctx);
}

if (require.main === module) {
  const controller = new AbortController();
  let interrupted = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    process.stderr.write(`netmem: ${sig}: stopping…\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: Context = {
    signal: controller.signal,
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
  };
  main(process.argv.slice(2), ctx).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      const sub = process.argv[2] && commands[process.argv[2]] ? ` ${process.argv[2]}` : '';
      if (e instanceof UsageError) {
        ctx.err(`netmem: ${e.message} (see 'netmem${sub} --help')`);
      } else if (e instanceof CancelledError) {
        ctx.err(`netmem${sub}: cancelled`);
        process.exitCode = 130;
        return;
      } else if (e instanceof BaseError || e instanceof ManifestError || e instanceof KernelError || e instanceof SeriesError) {
        ctx.err(`netmem${sub}: ${e.message}`);
        if ((e instanceof BaseError || e instanceof KernelError) && e.hint) ctx.err(`netmem${sub}: run: ${e.hint}`);
      } else {
        ctx.err(`netmem${sub}: ${(e as Error)?.message ?? String(e)}`);
      }
      process.exitCode = 2;
    },
  );
}
