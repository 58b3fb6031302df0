/** Assertions on the InputError (exit 2, the field named) that bad input must raise. */
import { expect } from 'vitest';
import { InputError } from '../src/errors.ts';

/** The InputError `f` throws (any other error is rethrown; none fails the test). */
export function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

/** `f` throws an InputError naming `field`, its message matching `message` when given. */
export function expectInputError(f: () => unknown, field: string, message?: RegExp): void {
  const e = inputError(f);
  expect(e.field).toBe(field);
  if (message) expect(e.message).toMatch(message);
}
