// Backend selection: names, the environment variable, and the DeviceInfo each backend reports.
// Each useBackend call switches the process-global tfjs backend; the tests run in order.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import {
  BACKEND_NAMES,
  backendFromEnv,
  currentDevice,
  describeDevice,
  isSoftwareAdapter,
  parseBackendName,
  useBackend,
  type DeviceInfo,
} from '../kernel-lib/backend/index.ts';

/**
 * Whether a tfjs-node package is installed here (it is not by default). A package under that name
 * that is another one (danfojs-node's alias of @tensorflow/tfjs, see package.json overrides) does not count.
 */
function tfjsNodeInstalled(): boolean {
  const require = createRequire(import.meta.url);
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      if ((require(`${pkg}/package.json`) as { name?: string }).name === pkg) return true;
    } catch {
      // not installed
    }
  }
  return false;
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/**
 * Asks navigator.gpu (installed by useBackend('webgpu')) for the high-performance adapter and
 * classifies it independently of the library: software = fallback adapter, architecture
 * 'software', or a lavapipe/llvmpipe/SwiftShader name.
 */
async function adapterIsSoftware(): Promise<{ software: boolean; text: string }> {
  const nav = (globalThis as unknown as { navigator?: { gpu?: { requestAdapter(o: object): Promise<{ info?: AdapterInfoLike; isFallbackAdapter?: boolean } | null> } } }).navigator;
  assert.ok(nav?.gpu, 'navigator.gpu is not installed after useBackend("webgpu")');
  const adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
  assert.ok(adapter, 'no adapter');
  const info = adapter.info ?? {};
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`;
  const software = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(text);
  return { software, text };
}

const assertRejectsNaming = async (p: Promise<unknown>, ...parts: (string | RegExp)[]) => {
  await assert.rejects(p, (err: Error) => {
    for (const part of parts) {
      const ok = typeof part === 'string' ? err.message.includes(part) : part.test(err.message);
      assert.ok(ok, `error message ${JSON.stringify(err.message)} should mention ${String(part)}`);
    }
    return true;
  });
};

describe('backend names', () => {
  test('parseBackendName accepts every known name', () => {
    for (const name of BACKEND_NAMES) assert.equal(parseBackendName(name), name);
  });

  test("parseBackendName('gpu') throws naming the value and the choices", () => {
    assert.throws(
      () => parseBackendName('gpu'),
      (err: Error) => err.message.includes("'gpu'") && BACKEND_NAMES.every((n) => err.message.includes(n)),
    );
  });

  test('backendFromEnv: unset or blank → auto; a name → that name; a bad value names the variable and the value', () => {
    assert.equal(backendFromEnv({}), 'auto');
    assert.equal(backendFromEnv({ SWITCHYARD_BACKEND: '  ' }), 'auto');
    assert.equal(backendFromEnv({ SWITCHYARD_BACKEND: ' wasm ' }), 'wasm');
    assert.throws(
      () => backendFromEnv({ SWITCHYARD_BACKEND: 'x' }),
      (err: Error) => err.message.includes('SWITCHYARD_BACKEND') && err.message.includes("'x'"),
    );
  });

  test('isSoftwareAdapter classifies hand-made adapters', () => {
    assert.equal(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15' }), true);
    assert.equal(isSoftwareAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' }), true);
    assert.equal(isSoftwareAdapter({ vendor: 'google', description: 'SwiftShader Device (Subzero)' }), true);
    assert.equal(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' }), false);
    assert.equal(isSoftwareAdapter({ vendor: 'nvidia', isFallbackAdapter: true }), true);
  });
});

describe('useBackend', () => {
  test("useBackend('nope') rejects naming the value and leaves the backend alone", async () => {
    const info = await useBackend('cpu', { log: false });
    await assertRejectsNaming(useBackend('nope'), "'nope'");
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(currentDevice(), info);
  });

  test("useBackend('cpu') reports cpu, no GPU", async () => {
    const info = await useBackend('cpu', { log: false });
    assert.equal(info.requested, 'cpu');
    assert.equal(info.backend, 'cpu');
    assert.equal(info.gpu, false);
    assert.equal(info.softwareGpu, false);
    assert.deepEqual(info.skipped, []);
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(currentDevice(), info);
    assert.equal(info.versions.tfjs, tf.version_core);
    assert.match(describeDevice(info), /^backend cpu on .*\(CPU\)$/);
  });

  test("useBackend('wasm') reports wasm, no GPU", async () => {
    const info = await useBackend('wasm', { log: false });
    assert.equal(info.backend, 'wasm');
    assert.equal(info.gpu, false);
    assert.equal(info.softwareGpu, false);
    assert.equal(tf.getBackend(), 'wasm');
  });

  let webgpuSoftware = true;
  test("useBackend('webgpu') starts (software adapters accepted when asked by name) and reports the adapter kind", async () => {
    let info: DeviceInfo;
    try {
      info = await useBackend('webgpu', { log: false, allowSoftwareGpu: false });
    } catch (err) {
      assert.fail(`useBackend('webgpu') failed: ${(err as Error).message}`);
    }
    assert.equal(info.backend, 'webgpu');
    assert.equal(tf.getBackend(), 'webgpu');
    const adapter = await adapterIsSoftware();
    webgpuSoftware = adapter.software;
    // On this machine (Mesa lavapipe, no hardware GPU) that is softwareGpu true, gpu false.
    assert.equal(info.softwareGpu, adapter.software, `softwareGpu for adapter "${adapter.text}"`);
    assert.equal(info.gpu, !adapter.software, `gpu for adapter "${adapter.text}"`);
    if (adapter.software) assert.match(describeDevice(info), /software GPU/);
  });

  test("useBackend('auto', { allowSoftwareGpu: false }) passes over a software WebGPU adapter and says why", async () => {
    const info = await useBackend('auto', { log: false, allowSoftwareGpu: false });
    assert.equal(info.requested, 'auto');
    if (!webgpuSoftware) {
      // A hardware GPU: auto takes it.
      assert.equal(info.backend, 'webgpu');
      assert.equal(info.gpu, true);
      return;
    }
    assert.notEqual(info.backend, 'webgpu', 'auto picked a software WebGPU adapter although allowSoftwareGpu is false');
    assert.equal(info.gpu, false);
    assert.equal(tf.getBackend(), info.backend);
    const skip = info.skipped.find((s) => s.backend === 'webgpu');
    assert.ok(skip, `webgpu is not listed in skipped: ${JSON.stringify(info.skipped)}`);
    assert.match(skip.reason, /software adapter/);
    assert.match(describeDevice(info), /passed over: webgpu/);
  });

  test("useBackend('tensorflow') without tfjs-node rejects with how to install it", async () => {
    const before = await useBackend('cpu', { log: false });
    if (tfjsNodeInstalled()) {
      const info = await useBackend('tensorflow', { log: false });
      assert.equal(info.backend, 'tensorflow');
      return;
    }
    await assertRejectsNaming(useBackend('tensorflow', { log: false }), /npm install @tensorflow\/tfjs-node/, 'is installed');
    assert.equal(tf.getBackend(), 'cpu', 'a failed switch must leave the previous backend in place');
    assert.equal(currentDevice(), before);
  });
});
