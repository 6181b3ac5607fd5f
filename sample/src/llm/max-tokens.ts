export const DEFAULT_MAX_TOKENS = 256;

/** Tokens a completion request asks for: its `maxTokens`, or the default when absent or invalid. */
export function maxTokensOf(body: unknown): number {
  const value = (body as { maxTokens?: unknown } | undefined)?.maxTokens;
  return Number.isInteger(value) && (value as number) >= 1 ? (value as number) : DEFAULT_MAX_TOKENS;
}
