/** The decoder-only Transformer language model (dense or with Switch/MoE FFNs). */
export {
  DEFAULT_MODEL_CONFIG,
  FFN_KINDS,
  isMoeLayer,
  modelConfigOf,
  moeConfigFor,
  moeLayerIndices,
  resolveModelConfig,
  validateModelConfig,
} from './config.ts';
export type { FfnKind, ModelConfig, ModelConfigInput, ModelSettings } from './config.ts';
export { TransformerLM } from './transformer.ts';
export type { LmForwardOptions, LmOutput, TransformerLMOptions } from './transformer.ts';
export { activeExperts, describeModel, flopsPerToken, parameterCounts } from './counts.ts';
export type { FlopsPerToken, ParameterCounts } from './counts.ts';
export { MASK_BIAS, causalBias, causalSelfAttention } from './attention.ts';
export type { AttentionOptions, AttentionParams } from './attention.ts';
export { LAYER_NORM_EPS, layerNorm } from './layer-norm.ts';
export type { LayerNormParams } from './layer-norm.ts';
export { maybeDropout, transformerBlock } from './block.ts';
export type { BlockOptions, BlockParams, FfnParams } from './block.ts';
export { deriveSeed } from './seeds.ts';
