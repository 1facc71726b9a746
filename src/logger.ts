import { type Logger, pino } from 'pino';
import { build as prettyStream } from 'pino-pretty';

/**
 * The process logger. Anything that could carry a credential is redacted by path, in addition to
 * the rule that request bodies and headers are never logged at all.
 */
export function createLogger(
  level: string,
  destination?: NodeJS.WritableStream,
  format: 'json' | 'pretty' = 'json',
): Logger {
  const stream =
    format === 'pretty'
      ? prettyStream({
          colorize: true,
          translateTime: 'HH:MM:ss.l',
          ignore: 'pid,hostname,service',
        })
      : destination;
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
    stream as pino.DestinationStream | undefined,
  );
}
