/** `train --config <file> [--key=value …]`: trains a language model; see kernel-lib/train. */
import { formatConfigHelp } from '../train/config-help.ts';
import { loadTrainConfig } from '../train/load-config.ts';
import { train, TrainingDiverged } from '../train/trainer.ts';
import { log } from './common.ts';

export async function trainCommand(args: string[]): Promise<number> {
  let file: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help') {
      process.stdout.write(`usage: switchyard train [--config file.ts|file.json] [--key=value …]\n\n${formatConfigHelp()}\n`);
      return 0;
    }
    if (a === '--config') file = args[++i];
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
    else rest.push(a);
  }
  if (args.includes('--config') && !file) throw new Error('train: --config needs a file');
  const cfg = await loadTrainConfig(file, rest);
  try {
    const result = await train(cfg);
    const e = result.finalEval;
    log(`${result.status} after ${result.steps} steps in ${result.runDir}${e ? `: validation loss ${e.loss.toFixed(4)} (neg. log perplexity ${e.negLogPerplexity.toFixed(4)}), accuracy ${(100 * e.accuracy).toFixed(1)}%` : ''}`);
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  } catch (err) {
    if (err instanceof TrainingDiverged) {
      log(err.message);
      process.stdout.write(JSON.stringify(err.result) + '\n');
      return 3;
    }
    throw err;
  }
}
