/** The MoE core: config, routers, capacity, dispatch/combine, experts, losses, layer. */
export * from './config.ts';
export * from './bfloat16.ts';
export * from './capacity.ts';
export * from './dispatch.ts';
export * from './experts.ts';
export * from './expert-matmul.ts';
export * from './grouped-matmul.ts';
export * from './packed-layout.ts';
export * from './packed-rows.ts';
export * from './losses.ts';
export * from './init.ts';
export * from './layer.ts';
export * from './dense.ts';
export * from './shared-experts.ts';
export * from './router-bias.ts';
export * from './routing/index.ts';
// The names and attributes of the kernels these ops run (kernels/contracts.ts), public as before.
export {
  COMBINE_ROWS, EXPERT_MATMUL, GATHER_ROWS, GROUPED_MATMUL, PACK_LAYOUT, ROW_DOTS, segmentOffset, type ExpertMatMulAttrs, type PackedAttrs,
} from '../kernels/contracts.ts';
