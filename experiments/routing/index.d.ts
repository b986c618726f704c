/**
 * Routing: token choice (top-1, top-2) vs Expert Choice (Zhou et al. 2022), and the
 * load-balancing coefficient of Switch eq. 4 from 1e-1 to 1e-5.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
export declare const routing: Experiment;
