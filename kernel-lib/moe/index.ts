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
export * from './routing/index.ts';
