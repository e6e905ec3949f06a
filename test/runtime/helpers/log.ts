import { pino, type Logger } from 'pino';

/** Quiet by default; LOTGATE_TEST_LOG=debug shows the servers' logs while a test runs. */
export function testLog(): Logger {
  return pino({ level: process.env.LOTGATE_TEST_LOG ?? 'silent' }, pino.destination(2));
}
