// The Transformer LM tests (test/model.test.ts) on the wasm backend.
process.env.SWITCHYARD_TEST_BACKEND = 'wasm';
await import('./model.test.ts');
