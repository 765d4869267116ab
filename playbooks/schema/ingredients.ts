/** `ingredients:` — reusable pieces of config (env vars and settings) that environments include. */
import type { Ingredient } from "../types.ts";
import { envVars, settings, strict } from "./common.ts";

export const ingredientSchema = strict({
  env: envVars.default({}),
  settings: settings.default({}),
}).transform((i): Omit<Ingredient, "name"> => ({ env: i.env, settings: i.settings }));
