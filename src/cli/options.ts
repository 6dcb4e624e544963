import { InvalidArgumentError } from 'commander';

/** Options every command accepts (defined once on the program). */
export interface GlobalOptions {
  url?: string;
  json?: boolean;
}

/** Parses a whole-number option; commander reports the error, which exits with the BAD_USER_INPUT code. */
export function integer(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return Number(value);
}
