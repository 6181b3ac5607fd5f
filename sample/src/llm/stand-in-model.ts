/** What a model call reports using, as LLM APIs do: the prompt's tokens and those it generated. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/**
 * A stand-in for a language model: one token per word of the prompt, and at most 16 generated
 * tokens (never more than `maxTokens`), so a call uses far less than a client may reserve.
 */
export function complete(prompt: string, maxTokens: number): { text: string; usage: Usage } {
  const promptTokens = prompt.split(/\s+/).filter(Boolean).length;
  const completionTokens = Math.min(maxTokens, 16);
  return { text: 'lorem '.repeat(completionTokens).trim(), usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens } };
}
