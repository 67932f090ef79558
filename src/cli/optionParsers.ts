/** Option value parsers shared by subcommands. */
import { InvalidArgumentError } from 'commander';

export const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
