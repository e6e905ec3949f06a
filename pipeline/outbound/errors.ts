// Coded errors of the outbound side. Configuration problems are collected, not thrown one at a
// time, so an operator fixing config.yaml sees every mistake in one run.

import type { ErrorCode } from '../codes.js';

export interface ConfigProblem {
  /** Stable code: E_CONFIG_INVALID, E_CONFIG_ENV_MISSING, E_CONFIG_SECRET_INLINE, ... */
  code: ErrorCode;
  /** Where in the configuration, e.g. `connectors[0].auth.tokenEnv`. */
  path: string;
  message: string;
}

export class OutboundConfigError extends Error {
  readonly code = 'E_OUTBOUND_CONFIG';
  constructor(public readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.path}: ${p.message} [${p.code}]`).join('\n'));
    this.name = 'OutboundConfigError';
  }
}

/** A builder was handed data it cannot turn into a message (a programming error upstream). */
export class MessageInputError extends Error {
  readonly code = 'E_MESSAGE_INPUT';
  constructor(message: string, public readonly field: string) {
    super(message);
    this.name = 'MessageInputError';
  }
}

/** Reads a secret from the environment; a missing or empty variable is a config problem naming it. */
export function envSecret(env: NodeJS.ProcessEnv, variable: string, path: string, what: string, problems: ConfigProblem[]): string {
  const value = env[variable];
  if (value === undefined || value === '') {
    problems.push({
      code: 'E_CONFIG_ENV_MISSING',
      path,
      message: `environment variable ${variable} is not set (it holds the ${what}; secrets are never written in the config file)`,
    });
    return '';
  }
  return value;
}
