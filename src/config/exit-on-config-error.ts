import { AppConfig, ConfigValidationError } from './app-config';

/** Loads the config or ends the process with the list of bad variables (exit code 78, EX_CONFIG). */
export function exitOnConfigError(load: () => AppConfig): AppConfig {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
