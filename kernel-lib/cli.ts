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
import { trainCommand } from './cli/train.ts';

interface Command {
  summary: string;
  usage: string;
  options: OptionSpecs;
  run: (positional: string[], options: Record<string, unknown>) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  demo: { summary: 'a Switch layer trained with load-balancing coefficients 0, 1e-2, 1e-1; checks the conformance cases', usage: 'demo', options: demoOptions, run: (_p, o) => demoCommand(o) },
  conformance: { summary: 'run MoE conformance cases, one JSON line each', usage: 'conformance case.json [case.json …]', options: conformanceOptions, run: conformanceCommand },
  device: { summary: 'print the backend and device a run would use (JSON)', usage: 'device', options: {}, run: (_p, o) => deviceCommand(o) },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  lines.push(`  ${'bench'.padEnd(12)} benchmarks: bench moe-layer | train-step [options] (--help for each)`);
  lines.push(`  ${'train'.padEnd(12)} train a Transformer LM on the Brown corpus: train --config <file> [--key=value …]`);
  return `usage: switchyard <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nevery command takes:\n${formatOptions(COMMON_OPTIONS)}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  // train takes config keys as options (--key=value), checked against the config's types.
  if (name === 'train') return trainCommand(rest);
  // bench takes the options of the benchmark it names.
  if (name === 'bench') return benchCommand(rest);
  const cmd = COMMANDS[name];
  if (!cmd) throw new Error(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
  const specs = { ...COMMON_OPTIONS, ...cmd.options };
  const { positional, options } = parseArgs(rest, specs, name);
  if (options.help) {
    process.stdout.write(`usage: switchyard ${cmd.usage}\n\n${formatOptions(specs)}\n`);
    return 0;
  }
  return cmd.run(positional, options);
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`switchyard: ${err.message}\n`);
      process.exit(2);
    },
  );
}
