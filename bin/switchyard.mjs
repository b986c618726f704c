#!/usr/bin/env node
// The `switchyard` bin: loads tsx, then runs the TypeScript CLI (the same as `npm run cli --`).
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../kernel-lib/cli.ts');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`switchyard: ${err.message}\n`);
    process.exit(2);
  },
);
