#!/usr/bin/env node
// The `switchyard` bin: loads tsx in this process, then runs the TypeScript CLI (the same as
// `npm run cli --`). One process: SIGINT and SIGTERM reach the trainer directly.
import { register } from 'tsx/esm/api';
register();
const { runAsProcess } = await import('../kernel-lib/cli.ts');
runAsProcess(process.argv.slice(2));
