import { InvalidArgumentError, Option } from 'commander';
import { FLAGS, type FlagName, type FlagSpec } from '../options/flags.js';

// commander's options from the flag table (options/flags.ts): each made from its one declaration;
// a command may say what it means there in its own words (`help`).

export function flag(name: FlagName, over: { help?: string } = {}): Option {
  const spec: FlagSpec = FLAGS[name];
  const o = new Option(spec.flags, over.help ?? spec.help);
  if (spec.choices) o.choices(spec.choices);
  if (spec.repeatable) o.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]).default([]);
  else if (spec.parse) {
    const parse = spec.parse;
    o.argParser((v: string) => {
      try {
        return parse(v);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    });
  }
  if (spec.default !== undefined) o.default(spec.default);
  return o;
}

/** Several options at once, for `command.addOptions`-style wiring. */
export function flags(...names: FlagName[]): Option[] {
  return names.map((n) => flag(n));
}
