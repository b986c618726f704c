// The MoE core suite (test/helpers/moe-suite.ts) on the cpu backend.
import { defineMoeSuite } from './helpers/moe-suite.ts';

defineMoeSuite('cpu');
