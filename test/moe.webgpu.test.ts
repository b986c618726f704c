// The MoE core suite (test/helpers/moe-suite.ts) on the webgpu backend. It must run, not skip:
// if WebGPU cannot start, the suite's before hook fails with the reason.
import { defineMoeSuite } from './helpers/moe-suite.ts';

defineMoeSuite('webgpu');
