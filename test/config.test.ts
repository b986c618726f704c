// The one configuration schema (kernel-lib/config/): each field declared once; a run, its model
// and its MoE layers take their parts of one resolved config; every kind of bad key or value is
// refused naming the key and the value; a saved config reads back to the same object.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_FIELDS } from '../kernel-lib/config/fields.ts';
import { MoeLayer, resolveMoeConfig } from '../kernel-lib/moe/index.ts';
import { modelConfigOf, resolveModelConfig, TransformerLM } from '../kernel-lib/model/index.ts';
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, type TrainConfig } from '../kernel-lib/train/config.ts';
import { formatConfigHelp, TRAIN_CONFIG_HELP } from '../kernel-lib/train/config-help.ts';
import { parseOverrides } from '../kernel-lib/train/load-config.ts';
import { NON_COMPUTATIONAL_KEYS, readSavedConfig } from '../kernel-lib/train/run-dir.ts';

const tmp = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A run's defaults as every saved config.json and sweep key has had them: key order included.
 * Issue 18 added numSharedExperts, sharedDff and biasUpdateRate (a saved config without them
 * reads back with these defaults).
 */
const DEFAULTS_JSON =
  '{"name":"run","outDir":"runs","backend":"auto","seed":0,"resume":true,"corpus":"brown","vocabSize":8000,"splitSeed":0,"batchSize":16,' +
  '"seqLen":64,"dModel":128,"numHeads":4,"numLayers":4,"dFf":512,"expertDff":null,"numSharedExperts":0,"sharedDff":null,"ffn":"moe","sparseEvery":2,"router":"top1","numExperts":8,"k":2,' +
  '"capacityFactor":1.25,"evalCapacityFactor":2,"balanceCoef":0.01,"zCoef":0.001,"biasUpdateRate":0,"jitterEps":0,"expertDropout":0,"activation":"relu","dropout":0,' +
  '"initScale":0.1,"routerDtype":"float32","tiedEmbeddings":true,"allowExpertChoice":false,"steps":1000,"lr":0.001,"minLr":0.0001,"warmupSteps":100,' +
  '"decay":"cosine","weightDecay":0.01,"beta1":0.9,"beta2":0.98,"epsilon":1e-8,"gradClip":1,"logEvery":10,"evalEvery":200,"evalBatches":8,' +
  '"finalEvalBatches":0,"checkpointEvery":200,"routingEvery":0,"routingBatches":8,"progress":"auto"}';

describe('one schema', () => {
  test("a run's defaults, their order and help come from the fields, unchanged", () => {
    assert.equal(JSON.stringify(DEFAULT_TRAIN_CONFIG), DEFAULTS_JSON);
    assert.equal(JSON.stringify(resolveTrainConfig()), DEFAULTS_JSON);
    assert.deepEqual(Object.keys(TRAIN_CONFIG_HELP), Object.keys(DEFAULT_TRAIN_CONFIG));
    for (const [k, help] of Object.entries(TRAIN_CONFIG_HELP)) assert.equal(help, CONFIG_FIELDS[k as keyof typeof CONFIG_FIELDS].help);
    assert.match(formatConfigHelp(), /^ {2}--finalEvalBatches=0 +validation batches of the final evaluation; 0 = the whole validation split$/m);
    assert.match(formatConfigHelp(), /^ {2}--expertDff=null +hidden width of each expert/m);
  });

  test("a field's flags: bookkeeping keys do not refuse a resume; moeOnly keys are refused for a dense model", () => {
    assert.deepEqual([...NON_COMPUTATIONAL_KEYS].sort(), ['backend', 'checkpointEvery', 'evalEvery', 'initFrom', 'logEvery', 'name', 'outDir', 'progress', 'resume', 'routingEvery', 'steps']);
    const moeOnly = Object.entries(CONFIG_FIELDS).filter(([, f]) => 'moeOnly' in f).map(([k]) => k);
    assert.deepEqual(moeOnly.sort(), ['allowExpertChoice', 'biasUpdateRate', 'capacityFactor', 'evalCapacityFactor', 'expertDff', 'expertDropout', 'jitterEps', 'k', 'numExperts', 'numSharedExperts', 'router', 'routerDtype', 'sharedDff']);
  });

  test('the --key=value parser reads each field by its type', () => {
    assert.deepEqual(parseOverrides(['--expertDff=null', '--capacityFactor=null', '--tiedEmbeddings=false', '--router=topk', '--k', '3', '--name=x', '--jitter-eps=0.01']), {
      expertDff: null, capacityFactor: null, tiedEmbeddings: false, router: 'topk', k: 3, name: 'x', jitterEps: 0.01,
    });
    assert.throws(() => parseOverrides(['--dModel=null']), /--dModel: expected a number, got 'null'/);
    assert.throws(() => parseOverrides(['--expertDff=wide']), /--expertDff: expected a number or 'null', got 'wide'/);
    assert.throws(() => parseOverrides(['--priority=token']), /--priority: unknown config key 'priority'/);
  });

  test('one default for k: 2 for topk; top1 and expert-choice hold 1 in the model and the layer, a run keeps what was asked', () => {
    assert.equal(resolveTrainConfig().k, 2);
    assert.equal(resolveModelConfig({ vocabSize: 10 }).k, 1);
    assert.equal(resolveModelConfig({ vocabSize: 10, router: 'topk' }).k, 2);
    assert.equal(resolveMoeConfig({ dModel: 4, dFf: 8 }).k, 1);
    assert.equal(resolveMoeConfig({ dModel: 4, dFf: 8, router: 'topk' }).k, 2);
    assert.equal(resolveMoeConfig({ dModel: 4, dFf: 8, router: 'expert-choice', k: 3 }).k, 1, "expert-choice's k is ignored");
    assert.equal(modelConfigOf(resolveTrainConfig(), 100).k, 1);
    assert.equal(modelConfigOf(resolveTrainConfig({ source: 't', values: { router: 'topk', k: 3 } }), 100).k, 3);
  });

  test('the model takes its part of a run config by key; its layers take the model config itself', () => {
    const run = resolveTrainConfig({ source: 't', values: { vocabSize: 50, seqLen: 4, dModel: 8, numHeads: 2, numLayers: 2, dFf: 16, numExperts: 2, sparseEvery: 1, expertDff: 12 } });
    const model = new TransformerLM(modelConfigOf(run, 40), { seed: 1 });
    try {
      assert.equal(model.config.vocabSize, 40);
      assert.equal(model.config.priority, 'token', 'a causal LM routes by token priority');
      const layers = Object.entries(model.namedVariables()).filter(([n]) => n.endsWith('/moe/w1'));
      assert.deepEqual(layers.map(([, v]) => v.shape), [[2, 8, 12], [2, 8, 12]], 'experts of width expertDff');
      for (const k of Object.keys(model.config)) assert.ok(k in CONFIG_FIELDS, k);
      for (const [k, f] of Object.entries(CONFIG_FIELDS)) if (f.level !== 'run') assert.ok(k in model.config, k);
    } finally {
      model.dispose();
    }
    const layer = new MoeLayer({ dModel: 4, dFf: 8, numExperts: 2 }, { name: 'config-test-layer' });
    try {
      assert.equal(layer.config.priority, 'choice', 'a layer of your own keeps the GShard priority');
      assert.deepEqual(layer.params.w1.shape, [2, 4, 8]);
    } finally {
      layer.dispose();
    }
  });

  test('a saved config reads back to the same object; one saved before a key existed gets its default', () => {
    const cfg = resolveTrainConfig({ source: 't', values: { name: 'saved', router: 'topk', capacityFactor: null, finalEvalBatches: 3 } });
    const dir = join(tmp, 'saved');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const back = readSavedConfig(dir)!;
    assert.deepEqual(back, cfg);
    assert.equal(JSON.stringify(back), JSON.stringify(cfg), 'same keys in the same order');

    const { finalEvalBatches: _, ...older } = cfg;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(older));
    assert.deepEqual(readSavedConfig(dir), { ...cfg, finalEvalBatches: 0 });
    assert.equal(JSON.stringify(readSavedConfig(dir)), JSON.stringify({ ...cfg, finalEvalBatches: 0 }), 'the default takes the key its place');

    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, lr: 'fast' }));
    assert.throws(() => readSavedConfig(dir), new RegExp(`${join(dir, 'config.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: 'lr' must be a number, got "fast"`));
  });
});

describe('every kind of bad key or value is refused, naming the key and the value', () => {
  const run = (values: Record<string, unknown>) => () => resolveTrainConfig({ source: 'x', values: values as Partial<TrainConfig> });
  const cases: [string, () => unknown, RegExp][] = [
    // a run (files, the command line): each value as it comes in, named by its source
    ['unknown key', run({ dmodel: 8 }), /^x: unknown config key 'dmodel' \(known: name, outDir, /],
    ['a prototype key', run(JSON.parse('{"__proto__": 1}')), /^x: unknown config key '__proto__'/],
    ['not an object', () => resolveTrainConfig({ source: 'x', values: [] as never }), /^x: config must be an object$/],
    ['wrong type', run({ seed: '1' }), /^x: 'seed' must be a number, got "1"$/],
    ['wrong type (boolean)', run({ resume: 'yes' }), /^x: 'resume' must be a boolean, got "yes"$/],
    ['wrong type (text)', run({ corpus: 3 }), /^x: 'corpus' must be a string, got 3$/],
    ['null where none is allowed', run({ dModel: null }), /^x: 'dModel' must be a number, got null$/],
    ['not finite', run({ lr: Infinity }), /^x: 'lr' must be finite, got Infinity$/],
    ['not a number', run({ zCoef: NaN }), /^x: 'zCoef' must be finite, got NaN$/],
    ['not whole', run({ numExperts: 2.5 }), /^x: 'numExperts' must be an integer, got 2.5$/],
    ['not one of the choices', run({ decay: 'step' }), /^x: 'decay' must be one of cosine, linear, none, got 'step'$/],
    // then the bounds, once every value is in
    ['below a minimum', run({ numLayers: 0 }), /^config: 'numLayers' must be ≥ 1, got 0$/],
    ['not above an exclusive minimum', run({ capacityFactor: 0 }), /^config: 'capacityFactor' must be > 0, got 0$/],
    ['above a maximum', run({ jitterEps: 1.5 }), /^config: 'jitterEps' must be ≤ 1, got 1.5$/],
    ['not below an exclusive maximum', run({ beta2: 1 }), /^config: 'beta2' must be < 1, got 1$/],
    ['negative final evaluation', run({ finalEvalBatches: -1 }), /^config: 'finalEvalBatches' must be ≥ 0, got -1$/],
    ['not a path component', run({ name: 'a/b' }), /^config: 'name' must be one path component .*got 'a\/b'$/],
    // and the checks across fields
    ['k above the experts', run({ router: 'topk', k: 9 }), /^config: k = 9 exceeds numExperts = 8$/],
    ['heads not dividing the width', run({ numHeads: 5 }), /^config: numHeads = 5 must divide dModel = 128$/],
    ['routing snapshots of a dense model', run({ ffn: 'dense', routingEvery: 5 }), /^config: 'routingEvery' = 5 needs an MoE layer/],
    ['initFrom empty', run({ initFrom: '' }), /^config: 'initFrom' must name a finished run directory, got ''$/],
    ['initFrom the run itself', run({ initFrom: 'runs/run' }), /^config: 'initFrom' = 'runs\/run' is this run's own directory \(.*\): name another run's$/],
    ['initFrom not text', run({ initFrom: 3 }), /^x: 'initFrom' must be a string, got 3$/],

    // a model built alone: what a value must be, in one go
    ['model: unknown key', () => resolveModelConfig({ vocabSize: 9, steps: 3 } as never), /^model config: unknown key 'steps' \(known: /],
    ['model: not an object', () => resolveModelConfig(null as never), /^model config: expected an object, got null$/],
    ['model: required and missing', () => resolveModelConfig({} as never), /^model config: vocabSize must be an integer ≥ 1, got undefined$/],
    ['model: wrong type', () => resolveModelConfig({ vocabSize: 9, dModel: '8' } as never), /^model config: dModel must be an integer ≥ 1, got 8$/],
    ['model: not finite', () => resolveModelConfig({ vocabSize: 9, zCoef: Infinity }), /^model config: zCoef must be a finite number ≥ 0, got Infinity$/],
    ['model: out of range', () => resolveModelConfig({ vocabSize: 9, jitterEps: -0.1 }), /^model config: jitterEps must be a number in \[0, 1\], got -0.1$/],
    ['model: nullable', () => resolveModelConfig({ vocabSize: 9, expertDff: 0 }), /^model config: expertDff must be an integer ≥ 1 or null \(= dFf\), got 0$/],
    ['model: fixed by the model', () => resolveModelConfig({ vocabSize: 9, priority: 'choice' }), /^model config: priority is always 'token' here, got 'choice'$/],
    ['model: k with top1', () => resolveModelConfig({ vocabSize: 9, router: 'top1', k: 2 }), /^model config: router 'top1' reads no k \(it sends each token to 1 expert\), got k = 2/],
    // a layer built alone
    ['layer: unknown key', () => resolveMoeConfig({ dModel: 4, dFf: 8, numLayers: 2 } as never), /^MoE config: unknown key 'numLayers'/],
    ['layer: required and missing', () => resolveMoeConfig({ dModel: 4 } as never), /^MoE config: dFf must be an integer ≥ 1, got undefined$/],
    ['layer: not one of the choices', () => resolveMoeConfig({ dModel: 4, dFf: 8, routerDtype: 'float16' as never }), /^MoE config: unknown routerDtype 'float16' \(choose float32, bfloat16\)$/],
    ['layer: exclusive maximum', () => resolveMoeConfig({ dModel: 4, dFf: 8, expertDropout: 1 }), /^MoE config: expertDropout must be a number in \[0, 1\), got 1$/],
  ];
  for (const [label, fn, re] of cases) {
    test(label, () =>
      assert.throws(fn, (err: Error) => {
        assert.match(err.message, re);
        return true;
      }),
    );
  }
});
