import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { currentRequest } from './request-context.js';

/** The message every unexpected error is replaced with. */
export const MASKED_MESSAGE = 'Unexpected error.';

/**
 * Yoga's masking, with development details never attached (whatever `NODE_ENV` says) and the
 * request id added, so a caller can quote it and an operator can find the full error in the log
 * (Yoga logs the original; the logger stamps the same `requestId` on that line).
 */
export function maskError(error: unknown, message: string): Error {
  const masked = yogaMaskError(error, message, false);
  if (masked === error || !(masked instanceof GraphQLError)) {
    return masked;
  }
  const requestId = currentRequest()?.id;
  if (!requestId) {
    return masked;
  }
  return new GraphQLError(masked.message, {
    nodes: masked.nodes ?? null,
    source: masked.source ?? null,
    positions: masked.positions ?? null,
    path: masked.path ?? null,
    extensions: { ...masked.extensions, requestId },
  });
}
