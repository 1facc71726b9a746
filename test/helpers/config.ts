import { ConfigError, loadConfig } from '../../src/config.js';

/** The problems `loadConfig` lists for `env` (it throws one ConfigError naming them all); [] when none. */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      return err.problems;
    }
    throw err;
  }
  return [];
}
