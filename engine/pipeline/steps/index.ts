import type { StepName } from "../../event-types.ts";
import type { Step } from "../step.ts";
import { buildStep } from "./build.ts";
import { mendStep } from "./mend.ts";
import { releaseHookStep } from "./release-hook.ts";
import { releaseStep } from "./release.ts";
import { resolveStep } from "./resolve.ts";
import { restartStep } from "./restart.ts";
import { routeStep } from "./route.ts";
import { startStep } from "./start.ts";
import { teardownStep } from "./teardown.ts";
import { uptestStep } from "./uptest.ts";

export const steps: Record<StepName, Step> = {
  resolve: resolveStep,
  build: buildStep,
  release: releaseStep,
  mend: mendStep,
  start: startStep,
  uptest: uptestStep,
  release_hook: releaseHookStep,
  route: routeStep,
  teardown: teardownStep,
  restart: restartStep,
};
