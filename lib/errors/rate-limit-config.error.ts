/** An invalid option or policy, raised at application start. */
export class RateLimitConfigError extends Error {
  override readonly name = 'RateLimitConfigError';
}

/** `where: message`, e.g. `CatsController.find: policy "default": limit must be ...`. */
export const configError = (where: string, message: string) => new RateLimitConfigError(`${where}: ${message}`);

export const describeValue = (value: unknown): string => {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};
