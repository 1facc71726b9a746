import { type Logger, pino } from 'pino';

/**
 * The process logger. Anything that could carry a credential is redacted by path, in addition to
 * the rule that request bodies and headers are never logged at all.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'contact-gateway' },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          'apiKey',
          '*.apiKey',
          'password',
          '*.password',
          'token',
          '*.token',
          'clientSecret',
          '*.clientSecret',
          'client_secret',
          '*.client_secret',
        ],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
