// The MoE core suite (test/helpers/moe-suite.ts) on the webgpu backend. It must run, not skip:
// if WebGPU cannot start, the suite's before hook fails with the reason.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { takeGpuErrors } from '../kernel-lib/backend/index.ts';
import { defineMoeSuite } from './helpers/moe-suite.ts';

defineMoeSuite('webgpu');

// WebGPU reports invalid pipelines asynchronously, and tfjs would return garbage: none may occur.
after(() => assert.deepEqual(takeGpuErrors(), [], 'WebGPU device errors during the suite'));
