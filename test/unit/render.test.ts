import { describe, expect, it } from 'vitest';
import { execForm, quoteWord, renderDockerfile, RenderError, shellQuote } from '../../src/dockerfile/render.js';

describe('escaping values into a Dockerfile', () => {
  it.each([
    ['plain', '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['$HOME', '"\\$HOME"'],
    ['${PATH}', '"\\${PATH}"'],
    ['C:\\dir\\', '"C:\\\\dir\\\\"'],
    ["it's", '"it\'s"'],
    ['', '""'],
  ])('quoteWord(%j) = %s', (v, want) => {
    expect(quoteWord(v)).toBe(want);
  });

  it.each(['a\nb', 'a\rb', 'nul\u0000', 'tab\t'])('quoteWord refuses %j', (v) => {
    expect(() => quoteWord(v)).toThrow(RenderError);
  });

  it.each([
    [['echo', 'a b'], '["echo","a b"]'],
    [['sh', '-c', 'echo "$X"\nexit 1'], '["sh","-c","echo \\"$X\\"\\nexit 1"]'],
    [['back\\slash'], '["back\\\\slash"]'],
  ])('execForm(%j) = %s', (argv, want) => {
    expect(execForm(argv)).toBe(want);
  });

  it.each([
    ['simple', 'simple'],
    ['https://x.example/simple', 'https://x.example/simple'],
    ["a'b", "'a'\\''b'"],
    ['$(rm -rf /)', "'$(rm -rf /)'"],
    ['a;b', "'a;b'"],
  ])('shellQuote(%j) = %s', (v, want) => {
    expect(shellQuote(v)).toBe(want);
  });

  it.each([
    ['a path with a space', { kind: 'copy', sources: ['a b'], dest: '/x' }],
    ['a path with $', { kind: 'workdir', path: '/$HOME' }],
    ['an image with a newline', { kind: 'user', user: 'root\nRUN x' }],
  ] as const)('the renderer refuses %s', (_n, instr) => {
    expect(() => renderDockerfile({ header: [], globalArgs: [], stages: [{ name: 's', from: 'img', body: [instr as never] }] })).toThrow(RenderError);
  });
});
