/** Option value parsers shared by subcommands. */
import { InvalidArgumentError } from 'commander';

export const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

/** A repeatable option's values, in the order given. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
