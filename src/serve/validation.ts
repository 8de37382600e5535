/**
 * Request validation with the CLI's error grammar: Ajv checks bodies strictly (no type
 * coercion, unknown keys refused) and query strings with coercion (they are text), and each
 * failure becomes an ERR_FRAMESIFT_INVALID_ARG "Expected <what> for <path> but received <value>".
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

import { FramesiftError, invalidArg } from '../errors.js';

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

const strict = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, removeAdditional: false, verbose: true, strict: false });
const coercing = new Ajv({ allErrors: false, coerceTypes: true, useDefaults: true, removeAdditional: false, verbose: true, strict: false });

/** fastify's validatorCompiler: strict for bodies, coercing for query strings and params. */
export function compileValidator({ schema, httpPart }: { schema: object; httpPart?: string }): ValidateFunction {
  return (httpPart === 'body' ? strict : coercing).compile(schema);
}

const quoteAll = (values: readonly unknown[]) => values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');

/** The first Ajv error as a FramesiftError of the CLI's grammar. */
export function schemaError(errors: readonly ErrorObject[], dataVar: string): FramesiftError {
  const error = errors[0];
  if (!error) return new FramesiftError(`Invalid ${dataVar}`, 'ERR_FRAMESIFT_INVALID_ARG');
  const path = error.instancePath.split('/').filter(Boolean).join('.');
  const at = (child?: string) => [path, child].filter(Boolean).join('.') || dataVar;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type': {
      const types = ([] as string[]).concat(params.type as string | string[]);
      return invalidArg(at(), types.map((t) => TYPE_WORDS[t] ?? t).join(' or '), error.data);
    }
    case 'enum':
      return invalidArg(at(), `one of ${quoteAll(params.allowedValues as unknown[])}`, error.data);
    case 'required':
      return invalidArg(at(params.missingProperty as string), 'a value', undefined);
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
      return invalidArg(at(), `only the keys ${known.join(', ')}`, params.additionalProperty);
    }
    case 'minLength':
      return invalidArg(at(), 'a non-empty string', error.data);
    case 'pattern':
      return invalidArg(at(), `a value matching ${params.pattern}`, error.data);
    case 'minimum':
    case 'maximum':
      return invalidArg(at(), `a number ${params.comparison} ${params.limit}`, error.data);
    default:
      return invalidArg(at(), error.message ?? 'a valid value', error.data);
  }
}
