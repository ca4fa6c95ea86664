import { describe, expect, it } from 'vitest';
import { checkJson, type JsonCheck } from '../../src/smoke/checks.js';

// serve tests' JSON checks (issue 23, point 5): each check at a dotted path, problems in words.
const doc = {
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi there' } }],
  usage: { completion_tokens: 8 },
  none: null,
};

describe('checkJson', () => {
  it.each<[JsonCheck, string[]]>([
    [{ path: 'object', equals: 'chat.completion' }, []],
    [{ path: 'object', equals: 'text_completion' }, ['object = "text_completion" / object = "chat.completion"']],
    [{ path: 'none', equals: null }, []],
    [{ path: 'choices', exists: true }, []],
    [{ path: 'missing', exists: false }, []],
    [{ path: 'object', exists: false }, ['object absent / object = "chat.completion"']],
    [{ path: 'missing', exists: true }, ['missing present / missing missing']],
    [{ path: 'missing', type: 'string' }, ['missing present and checked / missing missing']],
    [{ path: 'choices', type: 'array' }, []],
    [{ path: 'none', type: 'null' }, []],
    [{ path: 'usage', type: 'array' }, ['usage of type array / usage of type object']],
    [{ path: 'choices.0.message.content', matches: '^hi\\b' }, []],
    [{ path: 'choices.0.index', matches: '0' }, ['choices.0.index matches /0/ / choices.0.index = 0']],
    [{ path: 'choices', length: 1 }, []],
    [{ path: 'choices', length: { min: 2 } }, ['choices of length 2..any / choices of length 1']],
    [{ path: 'choices.0.message.content', length: { min: 1, max: 8 } }, []],
    [{ path: 'usage.completion_tokens', length: 1 }, ['usage.completion_tokens of length 1 / usage.completion_tokens of type number (no length)']],
  ])('%j', (check, want) => {
    expect(checkJson(doc, [check]).map((p) => `${p.e} / ${p.a}`)).toEqual(want);
  });
});
