// The Transformer LM tests (test/model.test.ts) on the webgpu backend.
process.env.SWITCHYARD_TEST_BACKEND = 'webgpu';
await import('./model.test.ts');
