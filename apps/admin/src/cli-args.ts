import { InvalidArgumentError } from 'commander';

/** Commander argument parsers shared by the admin CLI's commands. */
export const integer = (min: number, what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what}: an integer >= ${min}`);
  return n;
};
export const positiveInt = integer(1, 'a positive integer');
export const nonNegativeInt = integer(0, 'a non-negative integer');
