#!/usr/bin/env -S node --import tsx
/**
 * The Switchyard command line: `npm run --silent cli -- <command> [options]`.
 * stdout carries only the command's output (JSON where asked); logs and the device line go to stderr.
 */
import { formatOptions, parseArgs, type OptionSpecs } from './cli/args.ts';
import { benchCommand } from './cli/bench.ts';
import { COMMON_OPTIONS } from './cli/common.ts';
import { conformanceCommand, conformanceOptions } from './cli/conformance.ts';
import { demoCommand, demoOptions } from './cli/demo.ts';
import { deviceCommand } from './cli/device.ts';
import { exitCodeFor, exitWhenFlushed } from './cli/exit.ts';
import { expCommand, reportCommand } from './cli/exp.ts';
import { startCommand } from './cli/start.ts';
import { trainCommand } from './cli/train.ts';
import { guardStdio, writeStderr } from './util/log.ts';

interface Command {
  summary: string;
  usage: string;
  options: OptionSpecs;
  /** Whether the command takes positional arguments (files); others refuse stray words. */
  positional?: boolean;
  run: (positional: string[], options: Record<string, unknown>) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  start: { summary: "every experiment at the quick preset, then where the reports are (what npm start runs)", usage: 'start', options: {}, run: (_p, o) => startCommand(o) },
  demo: { summary: 'a Switch layer trained with load-balancing coefficients 0, 1e-2, 1e-1; checks the conformance cases', usage: 'demo', options: demoOptions, run: (_p, o) => demoCommand(o) },
  conformance: { summary: 'run MoE conformance cases, one JSON line each', usage: 'conformance case.json [case.json …]', options: conformanceOptions, positional: true, run: conformanceCommand },
  device: { summary: 'print the backend and device a run would use (JSON)', usage: 'device', options: {}, run: (_p, o) => deviceCommand(o) },
  report: { summary: 'rebuild an experiment report from its runs alone: report results/<experiment>/<preset>-<id>', usage: 'report <sweep folder>', options: {}, positional: true, run: (p) => reportCommand(p) },
};

/** Commands with their own argument parsing: config keys as options, or a sub-command. */
const OWN_PARSING: Record<string, { summary: string; run: (args: string[]) => Promise<number> }> = {
  // train takes config keys as options (--key=value), checked against the config's types.
  train: { summary: 'train a Transformer LM on the Brown corpus: train [--config <file>] [--key=value …] [--restart]', run: trainCommand },
  // bench takes the options of the benchmark it names.
  bench: { summary: 'benchmarks: bench moe-layer | train-step [options] (--help for each)', run: benchCommand },
  // exp has sub-commands (run-one, calibrate) besides the experiments.
  exp: { summary: "the paper's experiments: exp <name> --preset quick|cpu|gpu; exp --list", run: expCommand },
};

const commandNames = () => [...Object.keys(COMMANDS), ...Object.keys(OWN_PARSING)];

function usage(): string {
  const lines = [...Object.entries(COMMANDS), ...Object.entries(OWN_PARSING)].map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  return `usage: switchyard <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nevery command takes:\n${formatOptions(COMMON_OPTIONS)}\n`;
}

/** Runs one command line; returns the exit status. Output goes to stdout, usage errors to stderr. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === 'help' || name === '--help') {
    process.stdout.write(usage());
    return 0;
  }
  const own = OWN_PARSING[name];
  if (own) return own.run(rest);
  const cmd = COMMANDS[name];
  if (!cmd) throw new Error(`unknown command '${name}' (commands: ${commandNames().join(', ')})`);
  const specs = { ...COMMON_OPTIONS, ...cmd.options };
  const { positional, options } = parseArgs(rest, specs, name);
  if (options.help) {
    process.stdout.write(`usage: switchyard ${cmd.usage}\n\n${formatOptions(specs)}\n`);
    return 0;
  }
  if (!cmd.positional && positional.length) throw new Error(`${name}: unexpected argument '${positional[0]}' (usage: switchyard ${cmd.usage})`);
  return cmd.run(positional, options);
}

/** Runs `main` as the process's command: errors exit 2 with the message (4 for a write the disk refused); output is flushed before exit. */
export function runAsProcess(argv: string[]): void {
  guardStdio(); // a closed stdout or stderr must not crash a run (util/log.ts)
  main(argv).then(exitWhenFlushed, (err: Error) => {
    writeStderr(`switchyard: ${err.message}\n`);
    exitWhenFlushed(exitCodeFor(err));
  });
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (invokedDirectly) runAsProcess(process.argv.slice(2));
