/** Error formatting, the one way every layer turns a thrown value into words. */

/** Describes an unknown thrown value as a message. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
