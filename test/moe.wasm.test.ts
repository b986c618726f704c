// The MoE core suite (test/helpers/moe-suite.ts) on the wasm backend.
import { defineMoeSuite } from './helpers/moe-suite.ts';

defineMoeSuite('wasm');
