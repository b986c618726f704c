/** Router registry: one file per router behind the `Router` type. */
import type { RouterName } from '../config.ts';
import { expertChoiceRouter } from './expert-choice.ts';
import { top1Router } from './top1.ts';
import { topkRouter } from './topk.ts';
import type { Router } from './types.ts';

export * from './types.ts';
export { routerProbs, selectionScores, untaped, gatherProbs } from './base.ts';

const ROUTERS: Record<RouterName, Router> = {
  top1: top1Router,
  topk: topkRouter,
  'expert-choice': expertChoiceRouter,
};

/** The router function for a name; throws naming an unknown router. */
export function getRouter(name: RouterName): Router {
  const r = ROUTERS[name];
  if (!r) throw new Error(`unknown router '${String(name)}' (choose ${Object.keys(ROUTERS).join(', ')})`);
  return r;
}
