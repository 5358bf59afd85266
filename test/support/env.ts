/** Sets environment variables (undefined deletes one) and returns a function that restores the previous values. */
export function setEnv(overrides: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(overrides).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(overrides);
  return () => apply(saved);
}
