/**
 * An environment's config is layered: the buildpack's `config_vars` (bin/release) < the playbook
 * (ingredients, then the environment's `env`) < the `config set` values kept in config_vars.
 * Pure functions; the callers read and write the rows.
 */

/** The config a release gets from its three layers, later layers winning. */
export function layerConfig(
  buildVars: Readonly<Record<string, string>>,
  playbookEnv: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...buildVars, ...playbookEnv, ...overrides };
}

/**
 * The `config set` values that make `wanted` the environment's config again on top of `base`
 * (the build's and the playbook's layers): every key whose value differs from the base's.
 * Used after a rollback, so that the next plain deploy keeps the rolled-back release's config.
 * A key the base has and `wanted` lacks cannot be expressed as an override; it stays the base's
 * (it came from the playbook, which the operator owns).
 */
export function overridesFor(wanted: Readonly<Record<string, string>>, base: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(wanted)) if (!Object.hasOwn(base, k) || base[k] !== v) setOwn(out, k, v);
  return out;
}

/**
 * `obj[key] = value` as an own property whatever the key: plain assignment (and Object.assign)
 * with the key `__proto__` sets the object's prototype instead, and the key silently vanishes.
 */
export function setOwn(obj: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
